import logging

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command, Domain
from odoo.tools.misc import formatLang

from ..ksef_core import nip as ksef_nip
from ..ksef_core.errors import KsefError
from ..ksef_core.fa3 import FA2_NAMESPACE, FA3_NAMESPACE, parse_fa3
from ..ksef_core.fa3.bill import bill_from_invoice, party_nips, rate_kind, rate_percent, split_address
from ..ksef_core.hashing import sha256_b64
from ..ksef_core.ksef_number import is_valid_ksef_number, ksef_number_nip

_logger = logging.getLogger(__name__)

IMPORT_FILE_TYPE = "l10n_pl_ksef.fa3"
_ROOT_TAGS = ("{%s}Faktura" % FA3_NAMESPACE, "{%s}Faktura" % FA2_NAMESPACE)
PURCHASE_TYPES = ("in_invoice", "in_refund")

#: FA(3) rate code -> purchase tax of the Polish chart of accounts (l10n_pl), when that chart is used
PL_CHART_TAXES = {
    "23": "vz_kraj_23",
    "8": "vz_kraj_8",
    "5": "vz_kraj_5",
    "0 KR": "vz_kraj_0",
    "0 WDT": "vz_kraj_0",
    "0 EX": "vz_kraj_0",
    "zw": "vz_kraj_zw",
    "oo": "vz_stal",
}
#: rates for which a line without tax is right (no Polish VAT on the invoice, nothing to book)
_NO_TAX_NEEDED = ("not_subject",)


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_pl_ksef_number = fields.Char(
        string="KSeF number",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Number KSeF gave the supplier's invoice this bill was imported from.",
    )
    l10n_pl_ksef_invoice_hash = fields.Char(
        string="KSeF invoice hash",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="SHA-256 (Base64) of the imported FA(3) file: the same file is never imported twice.",
    )

    _l10n_pl_ksef_number_purchase_unique = models.UniqueIndex(
        "(company_id, l10n_pl_ksef_number) WHERE l10n_pl_ksef_number IS NOT NULL "
        "AND move_type IN ('in_invoice', 'in_refund')",
        "An invoice from KSeF is imported only once: a vendor bill with this KSeF number already exists.",
    )

    # ------------------------------------------------------------------ upload framework

    @api.model
    def _get_import_file_type(self, file_data):
        # EXTENDS 'account': FA(3) (and FA(2), to explain why it is refused) by the root element
        tree = file_data.get("xml_tree")
        if tree is not None and tree.tag in _ROOT_TAGS:
            return IMPORT_FILE_TYPE
        return super()._get_import_file_type(file_data)

    def _get_edi_decoder(self, file_data, new=False):
        # EXTENDS 'account'
        if file_data.get("import_file_type") == IMPORT_FILE_TYPE:
            return {"priority": 20, "decoder": lambda move, data, new=False: move._l10n_pl_ksef_decode_upload(data)}
        return super()._get_edi_decoder(file_data, new=new)

    def _l10n_pl_ksef_decode_upload(self, file_data):
        """Fill this empty draft from an uploaded FA(3) file; returns the reason when it cannot."""
        self.ensure_one()
        if self.is_sale_document(include_receipts=True):
            return _("An FA(3) invoice from a supplier is imported as a vendor bill: upload it in Vendor Bills.")
        if self.state != "draft" or self.invoice_line_ids:
            return self._reason_cannot_decode_has_invoice_lines() or _("Only an empty draft bill can be filled.")
        raw = file_data["raw"]
        try:
            invoice = parse_fa3(raw)
        except KsefError as exc:
            return exc.bilingual()
        problem = self._l10n_pl_ksef_buyer_problem(invoice)
        if problem:
            return problem
        # A file saved from KSeF or from a bill is named after its KSeF number.
        stem = (file_data.get("name") or "").rsplit(".", 1)[0]
        ksef_number = stem if is_valid_ksef_number(stem) and ksef_number_nip(stem) == invoice.seller.nip else None
        invoice_hash = sha256_b64(raw)
        existing = self._l10n_pl_ksef_find_imported(self.company_id, ksef_number, invoice_hash) - self
        if existing:
            return _(
                "This invoice was already imported as %(bill)s (KSeF number %(number)s); nothing was imported "
                "again. Delete this empty bill.",
                bill=existing.display_name,
                number=existing.l10n_pl_ksef_number or "-",
            )
        self._l10n_pl_ksef_fill(invoice, invoice_hash, ksef_number)
        return None

    # ------------------------------------------------------------------ receiving (cron)

    @api.model
    def _l10n_pl_ksef_find_imported(self, company, ksef_number=None, invoice_hash=None):
        """The vendor bill of ``company`` already made from this KSeF number or this very file."""
        found = []
        if ksef_number:
            found.append(Domain("l10n_pl_ksef_number", "=", ksef_number))
        if invoice_hash:
            found.append(Domain("l10n_pl_ksef_invoice_hash", "=", invoice_hash))
        if not found:
            return self.browse()
        domain = Domain.AND(
            [Domain("company_id", "=", company.id), Domain("move_type", "in", PURCHASE_TYPES), Domain.OR(found)]
        )
        return self.with_context(active_test=False).search(domain, order="id", limit=1)

    @api.model
    def _l10n_pl_ksef_import_received(self, company, ksef_number, xml):
        """Create the draft vendor bill of one invoice received from KSeF.

        Returns ``(bill, status)``: ``"created"``, ``"linked"`` (a bill uploaded by hand from the same
        file gets the KSeF number) or ``"duplicate"`` (already imported).  Raises on any problem; the
        caller runs this in a savepoint so that a bill is never half created.
        """
        invoice_hash = sha256_b64(xml)
        existing = self._l10n_pl_ksef_find_imported(company, ksef_number, invoice_hash)
        if existing:
            if existing.l10n_pl_ksef_number:
                return existing, "duplicate"
            existing.l10n_pl_ksef_number = ksef_number
            existing.message_post(
                body=_("Matched with the invoice received from KSeF (number %(number)s).", number=ksef_number)
            )
            return existing, "linked"
        invoice = parse_fa3(xml)
        journal = company.l10n_pl_ksef_receive_journal_id
        bill = self.with_company(company).create({"move_type": "in_invoice", "journal_id": journal.id})
        attachment = self.env["ir.attachment"].create(
            {
                "name": "%s.xml" % ksef_number,
                "raw": xml,
                "mimetype": "application/xml",
                "res_model": self._name,
                "res_id": bill.id,
            }
        )
        bill._l10n_pl_ksef_fill(invoice, invoice_hash, ksef_number)
        bill.message_post(
            body=_("Imported from KSeF (number %(number)s).", number=ksef_number),
            attachment_ids=attachment.ids,
        )
        return bill, "created"

    # ------------------------------------------------------------------ filling a bill

    def _l10n_pl_ksef_buyer_problem(self, invoice):
        """Why this company may not book ``invoice`` as a purchase (``None`` when it may)."""
        own = ksef_nip.normalize_nip(self.company_id.l10n_pl_ksef_nip or self.company_id.vat)
        if not own or own in party_nips(invoice):
            return None
        if invoice.seller.nip == own:
            return _("This FA(3) invoice was issued by your own company: it is a customer invoice, not a vendor bill.")
        return _(
            "This FA(3) invoice is addressed to NIP %(buyer)s, not to %(company)s (NIP %(nip)s).",
            buyer=invoice.buyer.nip or "-",
            company=self.company_id.name,
            nip=own,
        )

    def _l10n_pl_ksef_fill(self, invoice, invoice_hash, ksef_number=None):
        """Fill this empty draft bill from a parsed FA(3) ``invoice``; post notes where Odoo differs."""
        self.ensure_one()
        digits = self.env["decimal.precision"].precision_get("Product Price")
        draft = bill_from_invoice(invoice, price_digits=digits)
        currency = self._l10n_pl_ksef_currency(invoice.currency)
        notes = []
        with self._get_edi_creation() as move:
            move.write(
                {
                    "move_type": "in_refund" if draft.refund else "in_invoice",
                    "partner_id": move._l10n_pl_ksef_partner(invoice.seller).id,
                }
            )
            values = {
                "ref": invoice.number,
                "invoice_date": invoice.issue_date,
                "currency_id": currency.id,
                "l10n_pl_ksef_invoice_hash": invoice_hash,
            }
            if ksef_number:
                values["l10n_pl_ksef_number"] = ksef_number
            if draft.due_date:
                values.update(invoice_payment_term_id=False, invoice_date_due=draft.due_date)
            move.write(values)
            commands, untaxed = move._l10n_pl_ksef_line_commands(invoice, draft)
            move.write({"invoice_line_ids": commands})
        if untaxed:
            notes.append(
                _(
                    "No purchase tax of this company matches the VAT rate %(rates)s: these lines have no tax. "
                    "Choose the tax before confirming the bill.",
                    rates=", ".join(sorted(untaxed)),
                )
            )
        if currency.compare_amounts(self.amount_total, float(draft.total)):
            notes.append(
                _(
                    "The total of this bill (%(bill)s) differs from the amount due on the invoice in KSeF "
                    "(%(ksef)s) by %(diff)s. Check the lines and taxes before confirming the bill.",
                    bill=formatLang(self.env, self.amount_total, currency_obj=currency),
                    ksef=formatLang(self.env, float(draft.total), currency_obj=currency),
                    diff=formatLang(self.env, float(draft.total) - self.amount_total, currency_obj=currency),
                )
            )
        if draft.correction and invoice.correction and invoice.correction.invoices:
            corrected = ", ".join(c.ksef_number or c.number or "-" for c in invoice.correction.invoices)
            notes.append(_("Correction of invoice %(numbers)s.", numbers=corrected))
        if notes:
            self.message_post(body=Markup("<br/>").join(notes), subtype_xmlid="mail.mt_note")

    def _l10n_pl_ksef_line_commands(self, invoice, draft):
        """``(commands, rate codes without a tax)`` for the bill lines of ``draft``."""
        taxes = {}
        untaxed = set()
        before_after = any(line.before for line in draft.lines)
        commands = []
        for line in draft.lines:
            if line.rate not in taxes:
                taxes[line.rate] = self._l10n_pl_ksef_purchase_tax(line.rate)
            tax = taxes[line.rate]
            # no code (margin scheme, OSS, simplified invoice): the total check below tells if VAT is missing
            if not tax and line.rate and rate_kind(line.rate) not in _NO_TAX_NEEDED:
                untaxed.add(line.rate)
            commands.append(
                Command.create(
                    {
                        "name": self._l10n_pl_ksef_line_name(invoice, line, before_after),
                        "quantity": float(line.quantity),
                        "price_unit": float(line.price_unit),
                        "tax_ids": [Command.set(tax.ids)],
                        "is_imported": True,
                    }
                )
            )
        return commands, untaxed

    def _l10n_pl_ksef_line_name(self, invoice, line, before_after):
        if line.description is None:
            return _("Invoice %(number)s, VAT rate %(rate)s", number=invoice.number, rate=line.rate or "-")
        name = line.description
        if line.merged:
            name = "%s (%s × %s)" % (name, _fmt(line.original_quantity), _fmt(line.original_unit_price))
        if before_after and line.before:
            return _("%(name)s (before correction)", name=name)
        if before_after:
            return _("%(name)s (after correction)", name=name)
        return name

    def _l10n_pl_ksef_purchase_tax(self, code):
        """The company's purchase tax for an FA(3) rate code (empty when none fits)."""
        company = self.company_id
        Tax = self.env["account.tax"]
        kind = rate_kind(code)
        if kind is None:
            return Tax
        xmlid = PL_CHART_TAXES.get(code)
        if xmlid:
            tax = self.env["account.chart.template"].with_company(company).ref(xmlid, raise_if_not_found=False)
            if tax and tax.active and tax.type_tax_use == "purchase" and tax.amount_type == "percent":
                return tax
        if kind in ("reverse_charge", "not_subject"):
            return Tax  # a reverse charge needs the chart's own tax; "np" has no Polish VAT
        domain = Domain.AND(
            [
                Domain(Tax._check_company_domain(company)),
                Domain("type_tax_use", "=", "purchase"),
                Domain("amount_type", "=", "percent"),
                Domain("amount", "=", float(rate_percent(code))),
            ]
        )
        for tax in Tax.search(domain, order="sequence, id"):
            repartition = tax.invoice_repartition_line_ids.filtered(lambda r: r.repartition_type == "tax")
            charged = sum(repartition.mapped("factor_percent"))
            # skip taxes included in the price and self-cancelling (reverse-charge) ones: wrong totals
            if not tax.price_include and round(charged, 2) == 100.0:
                return tax
        return Tax

    def _l10n_pl_ksef_partner(self, party):
        """The supplier by NIP (with or without the PL prefix), created when unknown."""
        Partner = self.env["res.partner"]
        nip = ksef_nip.normalize_nip(party.nip) if party.nip else None
        if nip:
            partner = Partner._retrieve_partner(vat="PL%s" % nip, company=self.company_id)
            if partner:
                return partner.commercial_partner_id
        address = split_address(party.address)
        country = self.env["res.country"].search([("code", "=", address["country"] or "PL")], limit=1)
        # a clerk importing a bill may lack "Contact Creation": the supplier is identified by its NIP
        partner = Partner.sudo().create(
            {
                "name": party.name or nip or _("Supplier from KSeF"),
                "is_company": True,
                "vat": "PL%s" % nip if nip else False,
                "street": address["street"],
                "street2": address["street2"],
                "zip": address["zip"],
                "city": address["city"],
                "country_id": country.id,
                "email": party.contacts[0].email if party.contacts else False,
            }
        )
        return partner.sudo(False)

    def _l10n_pl_ksef_currency(self, code):
        Currency = self.env["res.currency"].with_context(active_test=False)
        currency = Currency.search([("name", "=", code or "PLN")], limit=1)
        if not currency.active:
            raise UserError(
                _(
                    "The invoice is in %(currency)s, which is not active in Odoo: activate the currency, then "
                    "import the invoice again.",
                    currency=code,
                )
            )
        return currency


def _fmt(value):
    """A Decimal without trailing zeros ("12.50" -> "12.5", "2.000" -> "2")."""
    if value is None:
        return "-"
    text = format(value.normalize(), "f")
    return text
