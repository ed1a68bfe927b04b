"""Offline invoices on the invoice: *Issue offline24*, the mode and deadline in the form and the list, and the
company's Offline certificate check that every offline issue needs (KOD II is signed with it)."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .l10n_pl_ksef_document import OFFLINE_MODES, PENDING_STATES
from .l10n_pl_ksef_document_offline import TECHNICAL_CORRECTION_REFUSED


class ResCompany(models.Model):
    _inherit = "res.company"

    def _l10n_pl_ksef_offline_certificate_problem(self):
        """Why this company cannot issue offline invoices now (text), or False."""
        self.ensure_one()
        certificate = self.sudo().l10n_pl_ksef_offline_certificate_id
        if not certificate:
            return _(
                "Offline invoices need the company's KSeF Offline certificate, which signs their second QR code "
                "(KOD II). Get one in Settings > KSeF > Get a KSeF certificate (tick Also an Offline certificate), "
                "or request one in the KSeF taxpayer application (Certificates > Request a certificate, type "
                "Offline) and add it in Settings > Invoicing > KSeF > Set up credentials > Offline certificate."
            )
        if certificate.valid_to and certificate.valid_to < fields.Datetime.now():
            return _(
                "The company's KSeF Offline certificate expired on %(date)s: get a new one in Settings > KSeF > Get "
                "a KSeF certificate, or request one in the KSeF taxpayer application and add it in Settings > "
                "Invoicing > KSeF > Set up credentials.",
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

    l10n_pl_ksef_can_issue_offline = fields.Boolean(
        string="Can be issued offline", compute="_compute_l10n_pl_ksef_can_issue_offline"
    )

    @api.depends("l10n_pl_ksef_state", "l10n_pl_ksef_invoicing_mode", "state", "move_type")
    def _compute_l10n_pl_ksef_can_issue_offline(self):
        for move in self:
            move.l10n_pl_ksef_can_issue_offline = bool(move._l10n_pl_ksef_offline_issuable())

    def _l10n_pl_ksef_queued_online(self):
        """The queued online document of this invoice, with its FA(3) frozen (not sent yet), if any."""
        self.ensure_one()
        document = self.l10n_pl_ksef_document_id
        ok = document.state == "to_send" and document.invoicing_mode == "online" and document.invoice_hash
        return document if ok else document.browse()

    def _l10n_pl_ksef_offline_issuable(self):
        """These invoices that can be issued offline now: not sent yet (never queued, or waiting online), and not
        a credit note whose corrected invoice KSeF has not accepted yet (it waits for that number)."""
        return self.filtered(
            lambda m: (m.l10n_pl_ksef_can_send or m._l10n_pl_ksef_queued_online())
            and not m.reversed_entry_id._l10n_pl_ksef_blocks_corrections()
        )

    def _l10n_pl_ksef_blocks_corrections(self):
        """True when a correction of this invoice must wait: KSeF has not accepted it yet (queued, issued offline,
        being processed), or rejected it as an offline invoice that goes back as a technical correction."""
        document = self.l10n_pl_ksef_document_id if len(self) == 1 else self.env["l10n_pl_ksef.document"]
        if document.state in PENDING_STATES:
            return True
        return bool(
            document.state == "rejected"
            and document.invoicing_mode in OFFLINE_MODES
            and document.status_code not in TECHNICAL_CORRECTION_REFUSED
        )

    def _l10n_pl_ksef_queue_waiting(self, user, problems):
        """Queue these credit notes to wait for the KSeF number of the invoice each corrects (their FA(3) is made
        once it is known); ``problems`` gets those whose invoice is not on its way to KSeF at all."""
        values = []
        for move in self:
            original = move.reversed_entry_id
            if not original._l10n_pl_ksef_blocks_corrections():
                problems[move] = _(
                    "The invoice it corrects, %(invoice)s, could not be sent to KSeF: fix it and send it first.",
                    invoice=original.name,
                )
                continue
            values.append(
                {
                    "move_id": move.id,
                    "company_id": move.company_id.id,
                    "waits_for_id": original.l10n_pl_ksef_document_id.id,
                    "ksef_user_id": (user or self.env.user).id or False,
                    "environment": move.company_id.l10n_pl_ksef_environment,
                }
            )
        return self.env["l10n_pl_ksef.document"].sudo().create(values)

    def _l10n_pl_ksef_offline_pending(self):
        """Issued offline and not in KSeF yet."""
        self.ensure_one()
        document = self.l10n_pl_ksef_document_id
        return bool(document.invoicing_mode in OFFLINE_MODES and document.state in ("to_send", "sending"))

    def _l10n_pl_ksef_offline_deliverable(self):
        """Issued offline and not rejected: its PDF (KOD I OFFLINE and KOD II) goes to the customer as usual."""
        self.ensure_one()
        document = self.l10n_pl_ksef_document_id
        return bool(document.invoicing_mode in OFFLINE_MODES and document.state in ("to_send", "sending", "processing"))

    def action_l10n_pl_ksef_issue_offline(self):
        """Issue offline24 (the taxpayer's choice): queued with its FA(3) frozen (or taken from the queue as it was
        frozen), printed with KOD I and KOD II, sent to KSeF with offlineMode by the next business day."""
        moves = self.filtered(lambda m: m.move_type in ("out_invoice", "out_refund"))
        if not moves:
            raise UserError(_("Only customer invoices and credit notes are issued offline."))
        for company in moves.company_id:
            problem = company._l10n_pl_ksef_offline_certificate_problem()
            if problem:
                raise UserError(problem)
        self.env["res.company"]._with_locked_records(moves)
        waiting = moves.filtered(lambda m: m.reversed_entry_id._l10n_pl_ksef_blocks_corrections())
        if waiting:
            raise UserError(
                _(
                    "%(credit_notes)s: the invoice it corrects is not in KSeF yet. A correction is issued once that "
                    "invoice has its KSeF number: send it with Send to KSeF and it goes right after.",
                    credit_notes=", ".join(waiting.mapped("name")),
                )
            )
        queued = self.env["l10n_pl_ksef.document"].browse(
            [doc.id for move in moves for doc in move._l10n_pl_ksef_queued_online()]
        )
        rest = moves - queued.move_id
        documents = self.env["l10n_pl_ksef.document"]
        if rest:
            refusals = rest._l10n_pl_ksef_refusals()
            if refusals:
                raise UserError(
                    "\n\n".join("%s: %s" % (move.name or move.display_name, text) for move, text in refusals.items())
                )
            documents, problems = rest._l10n_pl_ksef_queue()
            if problems:
                raise UserError(
                    "\n\n".join("%s: %s" % (move.name or move.display_name, text) for move, text in problems.items())
                )
        to_issue = (documents | queued).sudo()
        issued = to_issue._l10n_pl_ksef_go_offline(
            "offline24", _("Issued offline24 on the accountant's decision."), wait=True
        )
        if to_issue - issued:
            raise UserError(
                _(
                    "%(invoices)s went to KSeF online meanwhile: it is not issued offline. Check its KSeF status.",
                    invoices=", ".join((to_issue - issued).move_id.mapped("name")),
                )
            )
        return moves._l10n_pl_ksef_notification({})
