"""Readable prints of KSeF documents: the FA(3) visualization of an invoice (received or sent) and
the UPO.

* "KSeF visualization" prints any FA(3) the way the Ministry lays it out (``ksef_core.fa3.visual``):
  for a customer invoice, the exact file sent to KSeF; for a bill, the FA(3) file attached to it.
* Every bill that came from KSeF gets that print as a PDF attachment, made in the background by a
  cron (a few at a time: rendering costs far more than the import), and it becomes the bill's main
  attachment so that Odoo's side-by-side preview shows it; the XML stays attached. The cron works for the
  time its worker's real-time limit allows (``cron_budget``) and then triggers itself for the rest; it
  gives way to the sending and the receiving (a lower priority, and it pauses while invoices or companies
  are due: hundreds of companies' imports must not wait behind their PDFs). A
  bill whose visualization fails, for whatever reason, is marked failed with the reason on the bill and
  never tried again by the cron (its file would fail again and block the others).
"""

import datetime
import logging

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..ksef_core.environments import get_environment
from ..ksef_core.errors import KsefError
from ..ksef_core.fa3.visual import render_invoice_html
from ..ksef_core.hashing import sha256_b64
from ..ksef_core.upo_visual import render_upo_html
from .l10n_pl_ksef_budget import cron_budget, deadline_in, seconds_to

_logger = logging.getLogger(__name__)

VISUAL_CRON_XMLID = "l10n_pl_ksef.ir_cron_l10n_pl_ksef_visualize"
VISUAL_REPORT_XMLID = "l10n_pl_ksef.action_report_ksef_visualization"
#: bills taken per query (each is rendered by its own wkhtmltopdf call)
VISUAL_BATCH = 20
#: KSeF work is due: the visualizations wait this long before they look again
VISUAL_YIELD = datetime.timedelta(minutes=1)


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_pl_ksef_visual_id = fields.Many2one(
        "ir.attachment", string="KSeF visualization", readonly=True, copy=False, index="btree_not_null"
    )
    #: the visualization could not be made (FA(3) file gone or unreadable, a rendering error): not tried again
    l10n_pl_ksef_visual_failed = fields.Boolean(string="KSeF visualization failed", readonly=True, copy=False)
    l10n_pl_ksef_visual_error = fields.Text(
        string="Why the KSeF visualization failed",
        readonly=True,
        copy=False,
        help="Why the readable PDF of the supplier's FA(3) file could not be attached to this bill. The scheduled "
        "action does not try again; print it with Print > KSeF visualization once the cause is fixed.",
    )

    # ------------------------------------------------------------------ the FA(3) of a move

    def _l10n_pl_ksef_fa3_file(self):
        """``(xml bytes, KSeF number)`` of this move's FA(3), or ``(None, None)``."""
        self.ensure_one()
        if self.is_sale_document():
            document = self.l10n_pl_ksef_document_id.sudo()
            if document.xml and document.invoicing_mode != "manual":
                return document.xml.encode("utf-8"), document.ksef_number or None
            return None, None
        if not self.l10n_pl_ksef_invoice_hash:
            return None, None
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [("res_model", "=", self._name), ("res_id", "=", self.id), ("mimetype", "in", XML_MIMETYPES)],
                order="id",
            )
        )
        for attachment in attachments:
            raw = attachment.raw
            if raw and sha256_b64(raw) == self.l10n_pl_ksef_invoice_hash:
                return raw, self.l10n_pl_ksef_number or None
        return None, None

    def _l10n_pl_ksef_visual_html(self):
        """The visualization of this move's FA(3) (safe markup); a clear message when there is none."""
        self.ensure_one()
        xml, ksef_number = self._l10n_pl_ksef_fa3_file()
        if not xml:
            raise UserError(
                _(
                    "%(move)s has no FA(3) file to show: only invoices sent to KSeF and bills imported from "
                    "KSeF or from an FA(3) file have a KSeF visualization.",
                    move=self.display_name,
                )
            )
        environment = None
        if self.company_id.l10n_pl_ksef_active:
            try:
                environment = get_environment(*self.company_id._l10n_pl_ksef_get_environment())
            except KsefError:
                environment = None
        try:
            return Markup(render_invoice_html(xml, ksef_number=ksef_number, environment=environment))
        except KsefError as exc:
            raise UserError(exc.bilingual() if hasattr(exc, "bilingual") else str(exc)) from None

    def action_l10n_pl_ksef_print_visualization(self):
        return self.env.ref(VISUAL_REPORT_XMLID).report_action(self)

    # ------------------------------------------------------------------ attached to imported bills

    @api.model
    def _l10n_pl_ksef_visual_todo(self, limit):
        return self.sudo().search(
            [
                ("move_type", "in", ("in_invoice", "in_refund")),
                ("l10n_pl_ksef_invoice_hash", "!=", False),
                ("l10n_pl_ksef_visual_id", "=", False),
                ("l10n_pl_ksef_visual_failed", "=", False),
            ],
            order="id",
            limit=limit,
        )

    @api.model
    def _cron_l10n_pl_ksef_visualize(self):
        """Attach the KSeF visualization (PDF) to the bills imported from KSeF that have none yet."""
        report = self.env["ir.actions.report"].sudo()
        if report.get_wkhtmltopdf_state() not in ("ok", "upgrade"):
            _logger.info("KSeF: wkhtmltopdf is not available; visualizations of bills are not made")
            return
        # the job's time comes from the cron worker's real-time limit, counted from the job's start
        deadline = deadline_in(cron_budget(self.env))
        while seconds_to(deadline) > 0:
            if self._l10n_pl_ksef_visual_yields():
                # invoices to send or companies to import are waiting: their cron workers and the CPU go to them
                self.env.ref(VISUAL_CRON_XMLID)._trigger(at=fields.Datetime.now() + VISUAL_YIELD)
                return
            bills = self._l10n_pl_ksef_visual_todo(VISUAL_BATCH)
            if not bills:
                return
            bills._l10n_pl_ksef_attach_visualization()
            if not self.env.context.get("l10n_pl_ksef_no_commit"):
                self.env["l10n_pl_ksef.document"]._l10n_pl_ksef_commit()
        self.env.ref(VISUAL_CRON_XMLID)._trigger()

    @api.model
    def _l10n_pl_ksef_visual_yields(self):
        """Whether KSeF work is due now (invoices to send or statuses to check, companies to import): the
        visualizations wait for it (two queries, whatever the number of companies)."""
        if self.env["l10n_pl_ksef.document"]._l10n_pl_ksef_due_turns():
            return True
        return bool(self.env["res.company"]._l10n_pl_ksef_receive_queue())

    def _l10n_pl_ksef_attach_visualization(self):
        """Render these bills' visualizations and attach them as their main attachments (one wkhtmltopdf
        call per bill: the PDF of several cannot be split back reliably)."""
        report = self.env["ir.actions.report"].sudo().with_context(force_report_rendering=True)
        for bill in self:
            try:
                with self.env.cr.savepoint():
                    content, _type = report._render_qweb_pdf(VISUAL_REPORT_XMLID, bill.ids)
            except Exception as exc:  # whatever fails, the bill is marked and the others go on
                # the text of an exception may quote the supplier's invoice: the log says where, the bill why
                _logger.warning("KSeF: no visualization for bill %s (%s)", bill.id, _root_cause(exc).__class__.__name__)
                reason = bill._l10n_pl_ksef_visual_reason(exc)
                bill.sudo().write({"l10n_pl_ksef_visual_failed": True, "l10n_pl_ksef_visual_error": reason})
                continue
            attachment = (
                self.env["ir.attachment"]
                .sudo()
                .create(
                    {
                        "name": "KSeF-%s.pdf" % (bill.l10n_pl_ksef_number or bill.id),
                        "raw": content,
                        "mimetype": "application/pdf",
                        "res_model": self._name,
                        "res_id": bill.id,
                        "company_id": bill.company_id.id,
                    }
                )
            )
            bill.sudo().write({"l10n_pl_ksef_visual_id": attachment.id, "message_main_attachment_id": attachment.id})

    def _l10n_pl_ksef_visual_reason(self, exc):
        """What to tell the user on the bill: the message of an error meant for users, else what kind of error."""
        exc = _root_cause(exc)
        if isinstance(exc, KsefError) and hasattr(exc, "bilingual"):
            return exc.bilingual()
        if isinstance(exc, UserError):
            return exc.args[0] if exc.args else str(exc)
        return _(
            "The KSeF visualization could not be made (%(error)s): the supplier's FA(3) file may be unusual. Open "
            "the attached XML file, or ask your administrator to look at the server log for this bill.",
            error=exc.__class__.__name__,
        )


XML_MIMETYPES = ("application/xml", "text/xml", "text/plain")


def _root_cause(exc):
    """The error a report's rendering wrapped (QWeb wraps what a template's code raised)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


class L10nPlKsefDocument(models.Model):
    _inherit = "l10n_pl_ksef.document"

    def _l10n_pl_ksef_upo_html(self):
        """The readable UPO of this document (safe markup)."""
        self.ensure_one()
        upo = self.sudo().upo_attachment_id
        if not upo:
            raise UserError(_("KSeF has not issued the UPO of %(document)s yet.", document=self.display_name))
        try:
            return Markup(render_upo_html(upo.raw))
        except KsefError as exc:
            raise UserError(exc.bilingual() if hasattr(exc, "bilingual") else str(exc)) from None
