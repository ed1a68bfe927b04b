import logging

from lxml import etree
from markupsafe import Markup
from psycopg2 import IntegrityError

from odoo import _, api, fields, models
from odoo.fields import Domain
from odoo.tools.misc import clean_context, format_date, formatLang
from odoo.tools.sql import escape_psql

from ..ksef_core import nip as ksef_nip
from ..ksef_core.errors import KsefError
from ..ksef_core.fa3 import FA2_NAMESPACE, FA3_NAMESPACE, parse_fa3
from ..ksef_core.fa3.bill import account_key, bill_from_invoice, party_nips, party_tax_ids, split_address
from ..ksef_core.hashing import sha256_b64
from ..ksef_core.ksef_number import is_valid_ksef_number, ksef_number_nip
from .account_move_ksef_import_build import BillCache

_logger = logging.getLogger(__name__)

IMPORT_FILE_TYPE = "l10n_pl_ksef.fa3"
#: an XML file no decoder recognises: uploaded in Vendor Bills, it is told why it is not an FA(3) invoice
OTHER_XML_FILE_TYPE = "l10n_pl_ksef.other_xml"
_ROOT_TAGS = ("{%s}Faktura" % FA3_NAMESPACE, "{%s}Faktura" % FA2_NAMESPACE)
#: how far into a file its namespace declaration is looked for (the root element comes first)
_SNIFF_BYTES = 4096


def _is_xml_file(file_data):
    name = (file_data.get("name") or "").lower()
    mimetype = file_data.get("mimetype") or ""
    return name.endswith(".xml") or mimetype.endswith("/xml") or file_data.get("xml_tree") is not None


def _looks_like_broken_fa3(file_data):
    """An XML file Odoo could not parse that declares the FA(3) or FA(2) namespace near its start."""
    name = (file_data.get("name") or "").lower()
    mimetype = file_data.get("mimetype") or ""
    if not (name.endswith(".xml") or mimetype.endswith("/xml")):
        return False
    head = (file_data.get("raw") or b"")[:_SNIFF_BYTES]
    return FA3_NAMESPACE.encode() in head or FA2_NAMESPACE.encode() in head


PURCHASE_TYPES = ("in_invoice", "in_refund")
_PAID_STATES = ("paid", "in_payment", "reversed")


class AccountMove(models.Model):
    _inherit = "account.move"

    # l10n_pl_ksef_number: declared once, in account_move_ksef_send.py (a bill's comes from the import)
    l10n_pl_ksef_invoice_hash = fields.Char(
        string="KSeF invoice hash",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="SHA-256 (Base64) of the imported FA(3) file: the same file is never imported twice.",
    )
    l10n_pl_ksef_split_payment = fields.Boolean(
        string="Split payment (MPP)",
        compute="_compute_l10n_pl_ksef_split_payment",
        store=True,
        readonly=False,
        copy=False,
        help="Marked 'mechanizm podzielonej płatności' (P_18A). On a vendor bill: the supplier's invoice says so, pay "
        "it with a split payment (the VAT to the supplier's VAT account). On a customer invoice: set automatically "
        "when a customer with a Polish NIP buys Annex 15 goods or services and the total exceeds 15,000 PLN; you "
        "can also tick it by hand in that case (e.g. Annex 15 services not marked on the product). Never for a "
        "customer without a Polish NIP (a consumer) or a total up to 15,000 PLN (art. 108a ust. 1a ustawy o VAT).",
    )
    l10n_pl_ksef_unknown_account = fields.Char(
        string="Bank account to verify",
        readonly=True,
        copy=False,
        help="Bank account the supplier's invoice asks to pay to, which is not one of the supplier's accounts "
        "in Odoo. Verify it with the supplier before adding it to the supplier.",
    )

    _l10n_pl_ksef_hash_purchase_unique = models.UniqueIndex(
        "(company_id, l10n_pl_ksef_invoice_hash) WHERE l10n_pl_ksef_invoice_hash IS NOT NULL "
        "AND move_type IN ('in_invoice', 'in_refund')",
        "This FA(3) file is already a vendor bill of this company: the same invoice is imported only once.",
    )
    _l10n_pl_ksef_number_purchase_unique = models.UniqueIndex(
        "(company_id, l10n_pl_ksef_number) WHERE l10n_pl_ksef_number IS NOT NULL "
        "AND move_type IN ('in_invoice', 'in_refund')",
        "An invoice from KSeF is imported only once: a vendor bill with this KSeF number already exists.",
    )

    # ------------------------------------------------------------------ upload framework

    @api.model
    def _get_xml_tree(self, file_data):
        # EXTENDS 'account': an empty file is no XML (account's parser would raise "can only parse strings")
        if not file_data.get("raw"):
            return None
        return super()._get_xml_tree(file_data)

    @api.model
    def _get_import_file_type(self, file_data):
        # EXTENDS 'account': FA(3) (and FA(2), to explain why it is refused) by the root element
        tree = file_data.get("xml_tree")
        if tree is not None and tree.tag in _ROOT_TAGS:
            return IMPORT_FILE_TYPE
        if tree is None and _looks_like_broken_fa3(file_data):
            # not well formed, yet an FA(3) by its namespace: our decoder says what is wrong with it
            return IMPORT_FILE_TYPE
        found = super()._get_import_file_type(file_data)
        if found:
            return found
        if tree is not None and etree.QName(tree).localname == "Faktura":
            # a "Faktura" in another namespace (or none) that no other module reads: our decoder says why
            return IMPORT_FILE_TYPE
        return OTHER_XML_FILE_TYPE if _is_xml_file(file_data) else found

    def _get_edi_decoder(self, file_data, new=False):
        # EXTENDS 'account'
        if file_data.get("import_file_type") == IMPORT_FILE_TYPE:
            return {"priority": 20, "decoder": lambda move, data, new=False: move._l10n_pl_ksef_decode_upload(data)}
        if file_data.get("import_file_type") == OTHER_XML_FILE_TYPE:
            if not self.is_purchase_document(include_receipts=True) or (
                not new and (self.state != "draft" or self.invoice_line_ids)
            ):
                # only an upload into an empty draft bill is answered: an XML attached to a bill later
                # (chatter, mail alias, a posted bill) is no import and gets no message
                return super()._get_edi_decoder(file_data, new=new)
            # an XML file nothing else reads, uploaded in Vendor Bills: the lowest priority there is, so that
            # any other document of the upload wins; alone, the user learns why it is no FA(3) invoice
            return {"priority": 1, "decoder": lambda move, data, new=False: move._l10n_pl_ksef_decode_upload(data)}
        return super()._get_edi_decoder(file_data, new=new)

    def _l10n_pl_ksef_decode_upload(self, file_data):
        """Fill this empty draft from an uploaded FA(3) file; returns the reason when it cannot."""
        self.ensure_one()
        if self.is_sale_document(include_receipts=True):
            return _("An FA(3) invoice from a supplier is imported as a vendor bill: upload it in Vendor Bills.")
        if self.state != "draft" or self.invoice_line_ids:
            return self._reason_cannot_decode_has_invoice_lines() or _("Only an empty draft bill can be filled.")
        raw = file_data.get("raw") or b""  # an empty attachment has no raw at all
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
        return self._l10n_pl_ksef_fill(invoice, invoice_hash, ksef_number)

    # ------------------------------------------------------------------ receiving (cron)

    @api.model
    def _l10n_pl_ksef_find_imported(self, company, ksef_number=None, invoice_hash=None):
        """The vendor bill of ``company`` already made from this KSeF number or this very file."""
        found = []
        if ksef_number:
            found.append(Domain("l10n_pl_ksef_number", "=", ksef_number))
        if invoice_hash:
            found.append(Domain("l10n_pl_ksef_invoice_hash", "=", invoice_hash))
        if ksef_number and "l10n_pl_edi_number" in self._fields:  # imported by Odoo's own l10n_pl_edi
            found.append(Domain("l10n_pl_edi_number", "=", ksef_number))
        if not found:
            return self.browse()
        domain = Domain.AND(
            [Domain("company_id", "=", company.id), Domain("move_type", "in", PURCHASE_TYPES), Domain.OR(found)]
        )
        return self.with_context(active_test=False).search(domain, order="id", limit=1)

    @api.model
    def _l10n_pl_ksef_find_by_number(self, company, partner, number, issue_date=None, domain=None):
        """Bills of ``company`` from the supplier ``partner`` with the supplier's invoice ``number``
        (posted first, those of ``issue_date`` first)."""
        if not partner or not (number or "").strip():
            return self.browse()
        bills = self.search(
            Domain.AND(
                [
                    Domain("company_id", "=", company.id),
                    Domain("move_type", "in", PURCHASE_TYPES),
                    Domain("commercial_partner_id", "=", partner.id),
                    Domain("ref", "=ilike", escape_psql(number.strip())),
                    Domain("state", "in", ("draft", "posted")),
                    Domain(domain or []),
                ]
            ),
            order="id",
        )
        return bills.sorted(lambda bill: (bill.invoice_date != issue_date, bill.state != "posted", bill.id))

    def _l10n_pl_ksef_link_typed(self, invoice, invoice_hash, ksef_number, attachment_values):
        """Give a bill typed in by hand the KSeF number and file of its invoice; its amounts stay."""
        self.ensure_one()
        draft = bill_from_invoice(invoice, price_digits=self.env["decimal.precision"].precision_get("Product Price"))
        self.write(
            {
                "l10n_pl_ksef_number": ksef_number,
                "l10n_pl_ksef_invoice_hash": invoice_hash,
                "l10n_pl_ksef_split_payment": bool(invoice.annotations.split_payment),
            }
        )
        attachment = self.env["ir.attachment"].create(dict(attachment_values, res_model=self._name, res_id=self.id))
        notes = [
            _(
                "Matched with the invoice received from KSeF (number %(number)s): this bill was entered by hand "
                "with the same supplier, invoice number and date. Its amounts were not changed.",
                number=ksef_number,
            )
        ]
        notes += self._l10n_pl_ksef_compare_typed(invoice, draft)
        cache = BillCache(self.env, self.company_id)
        bank_values, bank_notes = self._l10n_pl_ksef_bank_values(
            cache, invoice, self.commercial_partner_id, self.move_type, assign=self.state == "draft"
        )
        if bank_values:
            self.write(bank_values)
        notes += bank_notes
        notes += self._l10n_pl_ksef_payment_notes(invoice, self.currency_id)
        self.message_post(body=Markup("<br/>").join(notes), attachment_ids=attachment.ids)

    def _l10n_pl_ksef_compare_typed(self, invoice, draft):
        """Notes where a bill typed in by hand differs from its invoice in KSeF."""
        if self.currency_id.name != (invoice.currency or "PLN"):
            return [
                _(
                    "The invoice in KSeF is in %(ksef)s, this bill in %(bill)s: check the bill.",
                    ksef=invoice.currency,
                    bill=self.currency_id.name,
                )
            ]
        if self.move_type != ("in_refund" if draft.refund else "in_invoice"):
            return [_("The invoice in KSeF is a %(kind)s: check the type of this bill.", kind=invoice.kind)]
        booked = draft.booked.values()
        untaxed = sum(float(b.net) for b in booked if b.net is not None)
        tax = sum(float(b.vat) for b in booked if b.vat is not None)
        notes = []
        for what, amount, ksef in (
            (_("Untaxed amount"), self.amount_untaxed, untaxed),
            (_("VAT"), self.amount_tax, tax),
            (_("Total"), self.amount_total, float(draft.total)),
        ):
            notes += self._l10n_pl_ksef_difference_note(what, amount, ksef)
        return notes

    # ------------------------------------------------------------------ filling a bill

    def _l10n_pl_ksef_buyer_problem(self, invoice):
        """Why this company may not book ``invoice`` as a purchase (``None`` when it may).

        The company is the buyer or a third party by its NIP, or, for a company outside Poland, by
        its EU VAT number or other tax number.
        """
        company = self.company_id
        number = company.l10n_pl_ksef_nip or company.vat
        own = ksef_nip.normalize_nip(number)
        if not own:
            return None
        if ksef_nip.is_valid_nip(own):
            if own in party_nips(invoice):
                return None
            if invoice.seller.nip == own:
                return _(
                    "This FA(3) invoice was issued by your own company: it is a customer invoice, not a vendor bill."
                )
        else:
            own = "".join(ch for ch in number.upper() if ch.isalnum())
            if own in party_tax_ids(invoice):
                return None
        buyer = invoice.buyer
        named = buyer and (
            buyer.nip
            or (buyer.eu_vat and "%s%s" % (buyer.eu_country or "", buyer.eu_vat))
            or (buyer.tax_id and "%s %s" % (buyer.tax_country or "", buyer.tax_id))
        )
        if ksef_nip.is_valid_nip(ksef_nip.normalize_nip(number)):
            return _(
                "This FA(3) invoice is addressed to NIP %(buyer)s, not to %(company)s (NIP %(nip)s).",
                buyer=(named or "-").strip(),
                company=company.name,
                nip=ksef_nip.normalize_nip(number),
            )
        return _(
            "This FA(3) invoice is addressed to tax number %(buyer)s, not to %(company)s (tax number %(number)s).",
            buyer=(named or "-").strip(),
            company=company.name,
            number=number,
        )

    def _l10n_pl_ksef_fill(self, invoice, invoice_hash, ksef_number=None):
        """Fill this empty draft bill (an upload) from a parsed FA(3) ``invoice``; post notes where Odoo differs.

        Returns why nothing was filled (the invoice became a bill meanwhile), else ``None``.
        """
        self.ensure_one()
        try:
            with self.env.cr.savepoint():  # flushed inside: the unique indexes answer here
                self._l10n_pl_ksef_write_bill(invoice, invoice_hash, ksef_number)
        except IntegrityError:
            return _(
                "This invoice is already a bill: the import from KSeF or another upload saved it at the same "
                "moment. Nothing was imported again; delete this empty bill."
            )
        return None

    def _l10n_pl_ksef_write_bill(self, invoice, invoice_hash, ksef_number):
        cache = BillCache(self.env, self.company_id)
        partner, notes = self._l10n_pl_ksef_partner(invoice.seller, self.company_id)
        draft = bill_from_invoice(invoice, price_digits=cache.digits)
        cache.prefetch_products({partner: [draft]})
        values, draft, bill_notes = self._l10n_pl_ksef_bill_values(cache, invoice, partner, self.journal_id, draft)
        values.update(l10n_pl_ksef_invoice_hash=invoice_hash)
        if ksef_number:
            values["l10n_pl_ksef_number"] = ksef_number
        extra, extra_notes = self._l10n_pl_ksef_extra_values(cache, invoice, draft, partner, values["move_type"])
        values.update(extra)
        # the Upload's defaults (default_journal_id, default_move_type...) must not reach the lines
        self.with_context(clean_context(self.env.context), skip_invoice_sync=True).write(values)
        notes += bill_notes + extra_notes
        if notes:
            self._message_log(body=Markup("<br/>").join(notes))

    def _l10n_pl_ksef_extra_values(self, cache, invoice, draft, partner, move_type):
        """``(values, notes)`` of a new bill beyond its amounts: bank account, correction, payment."""
        values, notes = self._l10n_pl_ksef_bank_values(cache, invoice, partner, move_type)
        correction_values, correction_notes = self._l10n_pl_ksef_correction_values(
            cache.company, partner, invoice, draft, move_type
        )
        values.update(correction_values)
        currency = cache.currency(invoice.currency)
        return values, notes + correction_notes + self._l10n_pl_ksef_payment_notes(invoice, currency)

    # ------------------------------------------------------------------ corrections

    @api.model
    def _l10n_pl_ksef_correction_values(self, company, partner, invoice, draft, move_type):
        """``(values, notes)`` linking a correction to the bill of the invoice it corrects.

        The original is found by its KSeF number (``NrKSeFFaKorygowanej``), else by the supplier
        and its number.  A credit note becomes its reversal (``reversed_entry_id``: confirming it
        reconciles both); a correction raising the amount stays a bill, noted as a correction.
        """
        if not draft.correction or not invoice.correction or not invoice.correction.invoices:
            return {}, []
        found = self.browse()
        labels = []
        for corrected in invoice.correction.invoices:
            original = self._l10n_pl_ksef_find_imported(company, corrected.ksef_number) - self
            if not original:
                original = self._l10n_pl_ksef_find_by_number(
                    company, partner, corrected.number, corrected.issue_date
                ).filtered(lambda bill: bill != self)[:1]
            number = corrected.ksef_number or corrected.number or "-"
            if original:
                found |= original
                labels.append(Markup("%s (%s)") % (number, original._get_html_link()))
            else:
                labels.append(_("%(number)s (no bill in Odoo)", number=number))
        body = Markup(", ").join(labels)
        originals = found.filtered(lambda bill: bill.move_type == "in_invoice")
        values = {}
        if len(invoice.correction.invoices) == 1 and len(originals) == 1:
            if move_type == "in_refund":
                return {"reversed_entry_id": originals.id}, [
                    _("Credit note correcting invoice %(numbers)s.", numbers=body)
                ]
            if "debit_origin_id" in self._fields:
                values["debit_origin_id"] = originals.id
        if move_type == "in_invoice":
            return values, [_("Correction of invoice %(numbers)s raising the amount: booked as a bill.", numbers=body)]
        return values, [_("Correction of invoice %(numbers)s.", numbers=body)]

    # ------------------------------------------------------------------ supplier, bank account, payment

    @api.model
    def _l10n_pl_ksef_find_partner(self, nip, company):
        """``(partner, archived)``: the commercial partner of ``company`` (or shared) with this NIP,
        however its VAT number is written ("526-587-76-35", "PL 5265877635", "pl5265877635"; see
        ``ksef_nip.polish_nip_in``, which the FA(3) of invoices reads a customer's NIP with too).

        Active partners come first, then commercial entities, then the company's own.
        """
        Partner = self.env["res.partner"].with_context(active_test=False)
        # by the indexed normalised NIP: one index look-up, however many partners there are
        domain = Domain.AND(
            [Domain(Partner._check_company_domain(company)), Domain("l10n_pl_ksef_nip_normalized", "=", nip)]
        )
        matches = Partner.search(domain)
        if not matches:
            return self.env["res.partner"], False
        best = matches.sorted(
            lambda p: (not p.commercial_partner_id.active, p != p.commercial_partner_id, not p.company_id, p.id)
        )[0]
        partner = self.env["res.partner"].browse(best.commercial_partner_id.id)
        return partner, not partner.active

    @api.model
    def _l10n_pl_ksef_partner(self, party, company):
        """``(supplier, notes)``: the supplier by NIP, created when unknown."""
        nip = ksef_nip.normalize_nip(party.nip) if party.nip else None
        if nip:
            partner, archived = self._l10n_pl_ksef_find_partner(nip, company)
            if archived:
                return partner, [
                    _(
                        "The supplier %(name)s (NIP %(nip)s) is archived in Odoo. Restore it or choose the right "
                        "supplier before confirming the bill.",
                        name=partner.display_name,
                        nip=nip,
                    )
                ]
            if partner:
                return partner, []
        address = split_address(party.address)
        country = self.env["res.country"].search([("code", "=", address["country"] or "PL")], limit=1)
        # a clerk importing a bill may lack "Contact Creation": the supplier is identified by its NIP
        partner = self.env(context=clean_context(self.env.context), su=True)["res.partner"].create(
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
        return partner.sudo(False), []

    @api.model
    def _l10n_pl_ksef_bank_values(self, cache, invoice, partner, move_type, assign=True):
        """``(values, notes)``: the supplier's bank account (``NrRB``) of the invoice for its bill.

        A known account of the supplier becomes the bill's recipient account (a credit note keeps
        the company's).  A supplier without any account gets the invoice's (not trusted for payments
        until someone validates it).  An account the supplier never had in Odoo while it has others
        is not added: the bill keeps a known account and is flagged (a changed account number is a
        common fraud).
        """
        numbers = [account.number for account in invoice.payment.accounts if account.number] if invoice.payment else []
        if not numbers or move_type != "in_invoice":
            return {}, []  # a credit note's recipient account is the company's own
        company = cache.company
        # without the Upload's defaults (default_journal_id would reach res.partner.bank.journal_id)
        Bank = self.env(context=dict(clean_context(self.env.context), active_test=False), su=True)["res.partner.bank"]
        banks = cache.banks
        if partner.id not in banks:
            banks[partner.id] = Bank.search([("partner_id", "=", partner.id)]).filtered(
                lambda bank: not bank.company_id or bank.company_id == company
            )
        accounts = banks[partner.id]
        known = {account_key(bank.acc_number): bank for bank in accounts}
        for number in numbers:
            bank = known.get(account_key(number))
            if bank and bank.active:
                return ({"partner_bank_id": bank.id} if assign else {}), []
        archived = [number for number in numbers if account_key(number) in known]
        if archived:
            return {}, [
                _(
                    "The invoice asks for payment to bank account %(account)s, which is archived for this supplier "
                    "in Odoo. Check it with the supplier before paying.",
                    account=archived[0],
                )
            ]
        if not accounts and assign:
            bank = Bank.create({"acc_number": numbers[0], "partner_id": partner.id})
            banks[partner.id] = bank
            return {"partner_bank_id": bank.id}, [
                _(
                    "Bank account %(account)s of the supplier was added from the invoice; it is not trusted for "
                    "payments until someone validates it.",
                    account=numbers[0],
                )
            ]
        if not accounts:
            return {}, []
        return {"l10n_pl_ksef_unknown_account": numbers[0]}, [
            _(
                "The invoice asks for payment to bank account %(account)s, which is not one of the supplier's "
                "accounts in Odoo (%(known)s). It was not added: confirm the new account with the supplier "
                "through a known contact before paying to it (a changed account number is a common fraud).",
                account=numbers[0],
                known=", ".join(bank.acc_number for bank in accounts if bank.active) or "-",
            )
        ]

    @api.model
    def _l10n_pl_ksef_payment_notes(self, invoice, currency):
        """Notes on how the supplier says the invoice is (to be) paid; nothing is registered."""
        notes = []
        if invoice.annotations.split_payment:
            notes.append(
                _(
                    "Split payment (MPP): the invoice is marked 'mechanizm podzielonej płatności'. Pay it with a "
                    "split payment (the VAT to the supplier's VAT account)."
                )
            )
        payment = invoice.payment
        if payment is None:
            return notes
        if payment.paid:
            notes.append(
                _(
                    "Paid on %(date)s according to the supplier; no payment was registered in Odoo.",
                    date=format_date(self.env, payment.paid_date) if payment.paid_date else "-",
                )
            )
        elif payment.partial_payments:
            parts = [
                "%s (%s)"
                % (
                    formatLang(self.env, float(part.amount or 0), currency_obj=currency),
                    format_date(self.env, part.date) if part.date else "-",
                )
                for part in payment.partial_payments
            ]
            notes.append(
                _(
                    "Paid in part according to the supplier: %(payments)s; no payment was registered in Odoo.",
                    payments=", ".join(parts),
                )
            )
        if payment.factor_accounts:
            notes.append(
                _(
                    "The invoice asks for payment to the factor's bank account %(account)s.",
                    account=", ".join(account.number for account in payment.factor_accounts if account.number),
                )
            )
        return notes

    # ------------------------------------------------------------------ alerts on the form

    def _get_alerts(self):
        # EXTENDS 'account'
        alerts = super()._get_alerts()
        if not self.is_purchase_document() or self.payment_state in _PAID_STATES:
            return alerts
        if self.l10n_pl_ksef_split_payment:
            alerts["l10n_pl_ksef_split_payment"] = {
                "level": "warning",
                "message": _("Split payment (MPP): the supplier's invoice requires paying it with a split payment."),
            }
        unknown = self.l10n_pl_ksef_unknown_account
        if unknown and account_key(unknown) not in {
            account_key(bank.acc_number) for bank in self.commercial_partner_id.bank_ids
        }:
            alerts["l10n_pl_ksef_unknown_account"] = {
                "level": "danger",
                "message": _(
                    "The supplier's invoice asks for payment to bank account %(account)s, which Odoo does not know "
                    "for this supplier. Confirm it with the supplier through a known contact before paying.",
                    account=unknown,
                ),
            }
        return alerts
