"""What the customer sees of KSeF on the printed invoice, the e-mail and the portal.

* An invoice accepted by KSeF: its KSeF number and KOD I, the QR code that opens the invoice in
  KSeF's verification page, with the KSeF number printed under it (the Ministry's rules for
  visualizations outside KSeF).
* An invoice issued offline (offline24, KSeF unavailable, emergency): KOD I labelled OFFLINE and
  KOD II labelled CERTYFIKAT, signed with the company's KSeF Offline certificate.
* Nothing for invoices and companies outside KSeF: the print stays exactly as it was.
"""

import base64
import logging

from markupsafe import Markup

from odoo import _, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..ksef_core import qr
from ..ksef_core.environments import get_environment
from ..ksef_core.errors import KsefError
from ..ksef_core.fa3.parser import load_fa3_root
from ..ksef_core.fa3.visual import invoice_qr_facts
from .l10n_pl_ksef_document import OFFLINE_MODES

_logger = logging.getLogger(__name__)


class AccountMove(models.Model):
    _inherit = "account.move"

    def _l10n_pl_ksef_print_document(self):
        """The KSeF document whose codes this invoice prints, or an empty recordset."""
        self.ensure_one()
        document = self.l10n_pl_ksef_document_id
        if not document or not self.company_id.l10n_pl_ksef_active or document.invoicing_mode == "manual":
            return document.browse()
        if document.invoicing_mode in OFFLINE_MODES or document.state == "accepted":
            return document
        return document.browse()

    def _l10n_pl_ksef_qr_urls(self):
        """``[(url, label, caption)]``: the KSeF verification codes this invoice carries, in print order."""
        self.ensure_one()
        document = self._l10n_pl_ksef_print_document()
        if not document:
            return []
        xml, ksef_number = self._l10n_pl_ksef_fa3_file()
        if not xml:
            return []
        company = self.company_id
        offline = document.invoicing_mode in OFFLINE_MODES
        codes = []
        try:
            seller_nip, issue_date = invoice_qr_facts(load_fa3_root(xml, validate=False))
            environment = get_environment(*company._l10n_pl_ksef_get_environment())
            url = qr.kod1_url(environment, seller_nip, issue_date, xml)
            label = qr.kod1_label(None if offline else ksef_number)
            codes.append((url, label, _("Scan to check the invoice in KSeF")))
            certificate = company.sudo().l10n_pl_ksef_offline_certificate_id
            if offline and certificate:
                url = qr.kod2_url(
                    environment,
                    "Nip",
                    company.l10n_pl_ksef_nip,
                    seller_nip,
                    certificate._l10n_pl_ksef_credential(),
                    xml,
                )
                codes.append((url, qr.kod2_label(), _("Scan to check who issued the invoice")))
        except (KsefError, UserError) as exc:
            # a print never fails for a code: the invoice prints without it and the reason is logged
            _logger.warning("KSeF: no QR code for invoice %s: %s", self.id, exc.args[0] if exc.args else exc)
        return codes

    def _l10n_pl_ksef_qr_codes(self):
        """The codes of :meth:`_l10n_pl_ksef_qr_urls` as dicts for the QWeb templates, with their images."""
        self.ensure_one()
        return [
            {
                "url": url,
                "label": label,
                "caption": caption,
                "image": "data:image/png;base64,%s" % base64.b64encode(qr.qr_png(url, box_size=4)).decode(),
            }
            for url, label, caption in self._l10n_pl_ksef_qr_urls()
        ]

    def _l10n_pl_ksef_offline_print_note(self):
        """The line under the codes of an invoice issued offline: its mode and, until KSeF has it, the day by which
        it reaches KSeF (in the invoice's language)."""
        self.ensure_one()
        document = self._l10n_pl_ksef_print_document()
        if not document or document.invoicing_mode not in OFFLINE_MODES:
            return False
        mode = document._l10n_pl_ksef_mode_label()
        if document.state == "accepted" or not document.offline_deadline:
            return _("Invoice issued in offline mode (%(mode)s).", mode=mode)
        return _(
            "Invoice issued in offline mode (%(mode)s); it is sent to KSeF by %(date)s.",
            mode=mode,
            date=format_date(self.env, document.offline_deadline),
        )

    # ------------------------------------------------------------------ after acceptance

    def _l10n_pl_ksef_after_acceptance(self):
        """KSeF has just given these invoices their numbers: payment reference (company option), and a
        PDF already made without the number is made again, so that the stored PDF carries it."""
        referenced = self.filtered(
            lambda m: m._l10n_pl_ksef_takes_payment_reference() and m.payment_reference != m.l10n_pl_ksef_number
        )
        # only the reference (and with it the label of the payment-term lines) changes, no amount: the invoice's
        # lines need no synchronisation and stay balanced; it is KSeF's number, not a user's edit; and the line
        # "Accepted by KSeF" in the chatter says it (l10n_pl_ksef_document_audit.py), no tracking line of its own
        quiet = referenced.with_context(
            skip_invoice_sync=True, check_move_validity=False, skip_is_manually_modified=True, tracking_disable=True
        )
        for move in quiet:
            move.payment_reference = move.l10n_pl_ksef_number
        sent = self.filtered("is_move_sent")  # only Send & Print stores an invoice PDF
        for move in sent.filtered("invoice_pdf_report_id"):
            move._l10n_pl_ksef_refresh_pdf()

    def _l10n_pl_ksef_takes_payment_reference(self):
        """Whether this invoice's KSeF number becomes its payment reference (the company's option)."""
        self.ensure_one()
        wanted = self.company_id.l10n_pl_ksef_payment_reference and self.move_type == "out_invoice"
        return bool(wanted and self.l10n_pl_ksef_number)

    def _l10n_pl_ksef_refresh_pdf(self):
        self.ensure_one()
        report = self.partner_id.invoice_template_pdf_report_id or self.env.ref("account.account_invoices")
        try:
            content, _report_type = self.env["ir.actions.report"].sudo()._render_qweb_pdf(report, self.ids)
        except Exception:  # the acceptance is recorded whatever the PDF engine does
            _logger.exception("KSeF: the PDF of invoice %s could not be made again with its KSeF number", self.id)
            return
        self.invoice_pdf_report_id.sudo().raw = content
        self.message_post(
            body=_("The invoice PDF was made again: it now carries the KSeF number %s.", self.l10n_pl_ksef_number)
        )

    # ------------------------------------------------------------------ e-mail

    def _l10n_pl_ksef_mail_note(self, lang=None):
        """The paragraph about the KSeF number for the invoice e-mail, in ``lang``, or None."""
        self.ensure_one()
        if not self.l10n_pl_ksef_number or self.move_type not in ("out_invoice", "out_refund"):
            return None
        move = self.with_context(lang=lang or self.env.lang)
        text = move.env._(
            "This invoice was issued in KSeF, the National e-Invoice System, under the number %s.",
            self.l10n_pl_ksef_number,
        )
        quote = move._l10n_pl_ksef_payment_quote_note()
        return Markup("<p>%s</p>") % ("%s %s" % (text, quote) if quote else text)

    # ------------------------------------------------------------------ the number to quote when paying

    def _l10n_pl_ksef_payment_quote_note(self):
        """What the invoice's PDF and e-mail tell the customer to quote in the transfer title (art. 108g of the VAT
        Act: from 2027 a VAT payer quotes the KSeF number), or None; only with the company's "KSeF number as
        payment reference" option.

        An invoice accepted by KSeF: its KSeF number. An invoice issued offline that KSeF has not numbered yet:
        it has no KSeF number to quote, so the customer quotes the payment reference for now. An invoice outside
        KSeF: nothing (it prints as Odoo prints it)."""
        self.ensure_one()
        company = self.company_id
        if self.move_type != "out_invoice" or not company.l10n_pl_ksef_active:
            return None
        if not company.l10n_pl_ksef_payment_reference:
            return None
        number = self.l10n_pl_ksef_number
        if number and self.payment_reference == number:
            return self.env._("Please quote the KSeF number %s in the title of your transfer.", number)
        document = self._l10n_pl_ksef_print_document()
        if not number and document.invoicing_mode in OFFLINE_MODES and self.payment_reference:
            return self.env._(
                "KSeF has not numbered this invoice yet (issued offline): quote %s in the title of your transfer.",
                self.payment_reference,
            )
        return None
