import logging

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.fields import Domain
from odoo.tools.misc import clean_context, format_date, formatLang
from odoo.tools.sql import escape_psql

from ..ksef_core import nip as ksef_nip
from ..ksef_core.errors import KsefError
from ..ksef_core.fa3 import FA2_NAMESPACE, FA3_NAMESPACE, parse_fa3
from ..ksef_core.fa3.bill import account_key, bill_from_invoice, party_nips, split_address
from ..ksef_core.hashing import sha256_b64
from ..ksef_core.ksef_number import is_valid_ksef_number, ksef_number_nip

_logger = logging.getLogger(__name__)

IMPORT_FILE_TYPE = "l10n_pl_ksef.fa3"
_ROOT_TAGS = ("{%s}Faktura" % FA3_NAMESPACE, "{%s}Faktura" % FA2_NAMESPACE)
#: how far into a file its namespace declaration is looked for (the root element comes first)
_SNIFF_BYTES = 4096


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
    l10n_pl_ksef_split_payment = fields.Boolean(
        string="Split payment (MPP)",
        compute="_compute_l10n_pl_ksef_split_payment",
        store=True,
        readonly=False,
        copy=False,
        help="Marked 'mechanizm podzielonej płatności' (P_18A). On a vendor bill: the supplier's invoice says so, pay "
        "it with a split payment (the VAT to the supplier's VAT account). On a customer invoice: set automatically "
        "when it has Annex 15 goods or services and its total exceeds 15,000 PLN; you can also set it by hand.",
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
    def _get_import_file_type(self, file_data):
        # EXTENDS 'account': FA(3) (and FA(2), to explain why it is refused) by the root element
        tree = file_data.get("xml_tree")
        if tree is not None and tree.tag in _ROOT_TAGS:
            return IMPORT_FILE_TYPE
        if tree is None and _looks_like_broken_fa3(file_data):
            # not well formed, yet an FA(3) by its namespace: our decoder says what is wrong with it
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

    @api.model
    def _l10n_pl_ksef_import_received(self, company, ksef_number, xml):
        """Create the draft vendor bill of one invoice received from KSeF.

        Returns ``(bill, status)``: ``"created"``, ``"linked"`` (a bill uploaded from the same file
        or typed in by hand from the supplier's PDF gets the KSeF number and the file) or
        ``"duplicate"`` (already imported).  Raises on any problem; the caller runs this in a
        savepoint so that a bill is never half created.
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
        nip = ksef_nip.normalize_nip(invoice.seller.nip) if invoice.seller.nip else None
        partner = self._l10n_pl_ksef_find_partner(nip, company)[0] if nip else None
        typed = self._l10n_pl_ksef_find_by_number(
            company, partner, invoice.number, invoice.issue_date, [("l10n_pl_ksef_number", "=", False)]
        ).filtered(lambda bill: bill.invoice_date == invoice.issue_date)[:1]
        attachment_values = {"name": "%s.xml" % ksef_number, "raw": xml, "mimetype": "application/xml"}
        if typed:
            typed._l10n_pl_ksef_link_typed(invoice, invoice_hash, ksef_number, attachment_values)
            return typed, "linked"
        journal = company.l10n_pl_ksef_receive_journal_id
        bill = self.with_company(company).create({"move_type": "in_invoice", "journal_id": journal.id})
        attachment = self.env["ir.attachment"].create(dict(attachment_values, res_model=self._name, res_id=bill.id))
        bill._l10n_pl_ksef_fill(invoice, invoice_hash, ksef_number)
        bill.message_post(
            body=_("Imported from KSeF (number %(number)s).", number=ksef_number),
            attachment_ids=attachment.ids,
        )
        return bill, "created"

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
        notes += self._l10n_pl_ksef_bank_account(invoice, assign=self.state == "draft")
        notes += self._l10n_pl_ksef_payment_notes(invoice)
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
            partner, partner_notes = move._l10n_pl_ksef_partner(invoice.seller)
            notes += partner_notes
            move.write({"move_type": "in_refund" if draft.refund else "in_invoice", "partner_id": partner.id})
            values = {
                "ref": invoice.number,
                "invoice_date": invoice.issue_date,
                "currency_id": currency.id,
                "l10n_pl_ksef_invoice_hash": invoice_hash,
                "l10n_pl_ksef_split_payment": bool(invoice.annotations.split_payment),
            }
            if ksef_number:
                values["l10n_pl_ksef_number"] = ksef_number
            if draft.due_date:
                values.update(invoice_payment_term_id=False, invoice_date_due=draft.due_date)
            move.write(values)
            notes += move._l10n_pl_ksef_set_rate(invoice, draft)
            commands, taxes, untaxed = move._l10n_pl_ksef_line_commands(invoice, draft)
            move.write({"invoice_line_ids": commands})
            notes += move._l10n_pl_ksef_bank_account(invoice)
        notes += self._l10n_pl_ksef_check_amounts(draft, taxes, untaxed)
        notes += self._l10n_pl_ksef_link_correction(invoice, draft)
        notes += self._l10n_pl_ksef_payment_notes(invoice)
        if notes:
            self.message_post(body=Markup("<br/>").join(notes), subtype_xmlid="mail.mt_note")

    # ------------------------------------------------------------------ corrections

    def _l10n_pl_ksef_link_correction(self, invoice, draft):
        """Link a correction to the bill of the invoice it corrects; returns notes.

        The original is found by its KSeF number (``NrKSeFFaKorygowanej``), else by the supplier
        and its number.  A credit note becomes its reversal (``reversed_entry_id``: confirming it
        reconciles both); a correction raising the amount stays a bill, noted as a correction.
        """
        if not draft.correction or not invoice.correction or not invoice.correction.invoices:
            return []
        found = self.browse()
        labels = []
        for corrected in invoice.correction.invoices:
            original = self._l10n_pl_ksef_find_imported(self.company_id, corrected.ksef_number) - self
            if not original:
                original = self._l10n_pl_ksef_find_by_number(
                    self.company_id, self.commercial_partner_id, corrected.number, corrected.issue_date
                ).filtered(lambda bill: bill != self)[:1]
            number = corrected.ksef_number or corrected.number or "-"
            if original:
                found |= original
                labels.append(Markup("%s (%s)") % (number, original._get_html_link()))
            else:
                labels.append(_("%(number)s (no bill in Odoo)", number=number))
        body = Markup(", ").join(labels)
        originals = found.filtered(lambda bill: bill.move_type == "in_invoice")
        if len(invoice.correction.invoices) == 1 and len(originals) == 1:
            if self.move_type == "in_refund":
                self.reversed_entry_id = originals
                return [_("Credit note correcting invoice %(numbers)s.", numbers=body)]
            if "debit_origin_id" in self._fields:
                self.debit_origin_id = originals
        if self.move_type == "in_invoice":
            return [_("Correction of invoice %(numbers)s raising the amount: booked as a bill.", numbers=body)]
        return [_("Correction of invoice %(numbers)s.", numbers=body)]

    # ------------------------------------------------------------------ supplier, bank account, payment

    @api.model
    def _l10n_pl_ksef_find_partner(self, nip, company):
        """``(partner, archived)``: the commercial partner of ``company`` (or shared) with this NIP,
        however its VAT number is written ("526-587-76-35", "PL 5265877635", "pl5265877635").

        Active partners come first, then commercial entities, then the company's own.
        """
        Partner = self.env["res.partner"].with_context(active_test=False)
        domain = Domain.AND(
            [Domain(Partner._check_company_domain(company)), Domain("vat", "=ilike", "%" + "%".join(nip) + "%")]
        )
        matches = Partner.search(domain).filtered(lambda p: ksef_nip.normalize_nip(p.vat) == nip)
        if not matches:
            return self.env["res.partner"], False
        best = matches.sorted(
            lambda p: (not p.commercial_partner_id.active, p != p.commercial_partner_id, not p.company_id, p.id)
        )[0]
        partner = self.env["res.partner"].browse(best.commercial_partner_id.id)
        return partner, not partner.active

    def _l10n_pl_ksef_partner(self, party):
        """``(supplier, notes)``: the supplier by NIP, created when unknown."""
        nip = ksef_nip.normalize_nip(party.nip) if party.nip else None
        if nip:
            partner, archived = self._l10n_pl_ksef_find_partner(nip, self.company_id)
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

    def _l10n_pl_ksef_bank_account(self, invoice, assign=True):
        """Take the supplier's bank account (``NrRB``) from the invoice; returns notes.

        A known account of the supplier becomes the bill's recipient account (a credit note keeps
        the company's).  A supplier without any account gets the invoice's (not trusted for payments
        until someone validates it).  An account the supplier never had in Odoo while it has others
        is not added: the bill keeps a known account and is flagged (a changed account number is a
        common fraud).
        """
        self.ensure_one()
        numbers = [account.number for account in invoice.payment.accounts if account.number] if invoice.payment else []
        if not numbers or self.move_type != "in_invoice":
            return []  # a credit note's recipient account is the company's own
        partner = self.commercial_partner_id
        # without the Upload's defaults (default_journal_id would reach res.partner.bank.journal_id)
        Bank = self.env(context=dict(clean_context(self.env.context), active_test=False), su=True)["res.partner.bank"]
        accounts = Bank.search([("partner_id", "=", partner.id)]).filtered(
            lambda bank: not bank.company_id or bank.company_id == self.company_id
        )
        known = {account_key(bank.acc_number): bank for bank in accounts}
        for number in numbers:
            bank = known.get(account_key(number))
            if bank and bank.active:
                if assign:
                    self.partner_bank_id = bank.id
                return []
        archived = [number for number in numbers if account_key(number) in known]
        if archived:
            return [
                _(
                    "The invoice asks for payment to bank account %(account)s, which is archived for this supplier "
                    "in Odoo. Check it with the supplier before paying.",
                    account=archived[0],
                )
            ]
        if not accounts and assign:
            bank = Bank.create({"acc_number": numbers[0], "partner_id": partner.id})
            self.partner_bank_id = bank.id
            return [
                _(
                    "Bank account %(account)s of the supplier was added from the invoice; it is not trusted for "
                    "payments until someone validates it.",
                    account=numbers[0],
                )
            ]
        if not accounts:
            return []
        self.l10n_pl_ksef_unknown_account = numbers[0]
        return [
            _(
                "The invoice asks for payment to bank account %(account)s, which is not one of the supplier's "
                "accounts in Odoo (%(known)s). It was not added: confirm the new account with the supplier "
                "through a known contact before paying to it (a changed account number is a common fraud).",
                account=numbers[0],
                known=", ".join(bank.acc_number for bank in accounts if bank.active) or "-",
            )
        ]

    def _l10n_pl_ksef_payment_notes(self, invoice):
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
                    formatLang(self.env, float(part.amount or 0), currency_obj=self.currency_id),
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
