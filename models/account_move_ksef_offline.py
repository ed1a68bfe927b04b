"""Offline invoices on the invoice: *Issue offline24*, the mode and deadline in the form and the list, and the
company's Offline certificate check that every offline issue needs (KOD II is signed with it)."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .l10n_pl_ksef_document import OFFLINE_MODES, PENDING_STATES


class ResCompany(models.Model):
    _inherit = "res.company"

    def _l10n_pl_ksef_offline_certificate_problem(self):
        """Why this company cannot issue offline invoices now (text), or False."""
        self.ensure_one()
        certificate = self.sudo().l10n_pl_ksef_offline_certificate_id
        if not certificate:
            return _(
                "Offline invoices need the company's KSeF Offline certificate, which signs their second QR code "
                "(KOD II). Request one in the KSeF taxpayer application (Certificates > Request a certificate, "
                "type Offline), then add it in Settings > Invoicing > KSeF > Set up credentials > Offline "
                "certificate."
            )
        if certificate.valid_to and certificate.valid_to < fields.Datetime.now():
            return _(
                "The company's KSeF Offline certificate expired on %(date)s: request a new one in the KSeF taxpayer "
                "application and add it in Settings > Invoicing > KSeF > Set up credentials.",
                date=certificate.valid_to.date(),
            )
        return False


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_pl_ksef_invoicing_mode = fields.Selection(
        related="l10n_pl_ksef_document_id.invoicing_mode", string="KSeF issue mode", store=True
    )
    l10n_pl_ksef_offline_deadline = fields.Date(
        related="l10n_pl_ksef_document_id.offline_deadline", string="Send to KSeF by", store=True
    )
    l10n_pl_ksef_offline_overdue = fields.Boolean(
        string="Offline, past its KSeF deadline", compute="_compute_l10n_pl_ksef_offline_overdue"
    )

    @api.depends("l10n_pl_ksef_offline_deadline", "l10n_pl_ksef_state")
    def _compute_l10n_pl_ksef_offline_overdue(self):
        today = fields.Date.context_today(self)
        for move in self:
            move.l10n_pl_ksef_offline_overdue = bool(
                move.l10n_pl_ksef_offline_deadline
                and move.l10n_pl_ksef_state in ("to_send", "sending")
                and move.l10n_pl_ksef_offline_deadline < today
            )

    def _l10n_pl_ksef_pending_original(self):
        """The KSeF document of the invoice this credit note corrects, when KSeF has not accepted it yet."""
        self.ensure_one()
        if self.move_type != "out_refund":
            return self.env["l10n_pl_ksef.document"]
        document = self.reversed_entry_id.l10n_pl_ksef_document_id
        return document if document.state in PENDING_STATES else document.browse()

    def _l10n_pl_ksef_offline_pending(self):
        """Issued offline and not in KSeF yet: the customer may get the PDF (with KOD I OFFLINE and KOD II)."""
        self.ensure_one()
        document = self.l10n_pl_ksef_document_id
        return bool(document and document.invoicing_mode in OFFLINE_MODES and document.state != "accepted")

    def action_l10n_pl_ksef_issue_offline(self):
        """Issue offline24 (the taxpayer's choice): queued with its FA(3) frozen, printed with KOD I and KOD II,
        sent to KSeF with offlineMode by the next business day."""
        moves = self.filtered(lambda m: m.move_type in ("out_invoice", "out_refund"))
        if not moves:
            raise UserError(_("Only customer invoices and credit notes are issued offline."))
        for company in moves.company_id:
            problem = company._l10n_pl_ksef_offline_certificate_problem()
            if problem:
                raise UserError(problem)
        refusals = moves._l10n_pl_ksef_refusals()
        if refusals:
            raise UserError(
                "\n\n".join("%s: %s" % (move.name or move.display_name, text) for move, text in refusals.items())
            )
        self.env["res.company"]._with_locked_records(moves)
        documents, problems = moves._l10n_pl_ksef_queue()
        if problems:
            raise UserError(
                "\n\n".join("%s: %s" % (move.name or move.display_name, text) for move, text in problems.items())
            )
        documents._l10n_pl_ksef_go_offline("offline24", _("Issued offline24 on the accountant's decision."))
        return moves._l10n_pl_ksef_notification({})
