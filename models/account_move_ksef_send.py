"""Sending customer invoices to KSeF, as the invoice sees it: state, KSeF number, buttons, rules.

Posting never calls KSeF: it queues the invoice (automatic mode) and triggers the cron. The buttons
queue the invoices and run the same engine at once on those invoices only, within a click's time
(``l10n_pl_ksef_document_click.py``); the cron sends the rest.
"""

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..ksef_core.hashing import sha256_b64
from ..ksef_core.token_end import tokens_ended_error
from .l10n_pl_ksef_document import LIVE_STATES
from .l10n_pl_ksef_document_send import CRON_XMLID

SENDABLE_TYPES = ("out_invoice", "out_refund")
#: the document has left (or KSeF holds it): the invoice's contents are fixed
IN_KSEF_STATES = ("sending", "processing", "accepted")


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_pl_ksef_document_ids = fields.One2many(
        "l10n_pl_ksef.document", "move_id", string="KSeF documents", readonly=True, copy=False
    )
    l10n_pl_ksef_document_id = fields.Many2one(
        "l10n_pl_ksef.document",
        string="KSeF document",
        compute="_compute_l10n_pl_ksef_document_id",
        store=True,
        copy=False,
        index="btree_not_null",
    )
    l10n_pl_ksef_state = fields.Selection(
        string="KSeF status", related="l10n_pl_ksef_document_id.state", store=True, copy=False
    )
    l10n_pl_ksef_sent_date = fields.Datetime(
        string="Sent to KSeF", related="l10n_pl_ksef_document_id.sent_date", store=True, copy=False
    )
    l10n_pl_ksef_accepted_date = fields.Datetime(
        string="Accepted by KSeF", related="l10n_pl_ksef_document_id.acceptance_date", store=True, copy=False
    )
    # Given by KSeF, never typed in: an invoice's comes from its accepted document (or the "KSeF number
    # issued outside Odoo" wizard), a bill's from the import, which write it in code.
    l10n_pl_ksef_number = fields.Char(
        string="KSeF number",
        compute="_compute_l10n_pl_ksef_number",
        store=True,
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The number KSeF gave the invoice: on a customer invoice when KSeF accepted it, on a bill the number "
        "of the supplier's invoice it was imported from.",
    )
    l10n_pl_ksef_banner = fields.Html(compute="_compute_l10n_pl_ksef_banner", sanitize=False)
    l10n_pl_ksef_can_send = fields.Boolean(compute="_compute_l10n_pl_ksef_can_send")

    @api.depends("l10n_pl_ksef_document_ids.state")
    def _compute_l10n_pl_ksef_document_id(self):
        for move in self:
            documents = move.l10n_pl_ksef_document_ids.filtered(lambda d: d.state != "cancelled")
            move.l10n_pl_ksef_document_id = documents.sorted("id")[-1:] if documents else False

    @api.depends("l10n_pl_ksef_document_id.ksef_number")
    def _compute_l10n_pl_ksef_number(self):
        for move in self:
            # a bill's number comes from the import; an invoice's from its accepted document
            move.l10n_pl_ksef_number = move.l10n_pl_ksef_document_id.ksef_number or move.l10n_pl_ksef_number

    @api.depends("move_type", "state", "company_id", "invoice_date", "l10n_pl_ksef_state", "l10n_pl_ksef_hold")
    def _compute_l10n_pl_ksef_can_send(self):
        for move in self:
            move.l10n_pl_ksef_can_send = bool(move._l10n_pl_ksef_sendable())

    @api.depends(
        "l10n_pl_ksef_state", "l10n_pl_ksef_number", "state", "l10n_pl_ksef_invoicing_mode", "l10n_pl_ksef_hold"
    )
    @api.depends_context("lang")
    def _compute_l10n_pl_ksef_banner(self):
        for move in self:
            move.l10n_pl_ksef_banner = move._l10n_pl_ksef_banner_html()

    def _l10n_pl_ksef_banner_html(self):
        self.ensure_one()
        document = self.l10n_pl_ksef_document_id
        if self.l10n_pl_ksef_hold and self.l10n_pl_ksef_state not in LIVE_STATES:
            return self._l10n_pl_ksef_hold_banner()
        if not document:
            if self._l10n_pl_ksef_sendable():
                return Markup(escape(_("This invoice has not been sent to KSeF yet: click Send to KSeF.")))
            return False
        when = fields.Datetime.to_string(
            fields.Datetime.context_timestamp(
                self, document.acceptance_date or document.sent_date or fields.Datetime.now()
            )
        )
        texts = {
            "to_send": _("Queued for KSeF: it goes out in a moment."),
            "sending": _("Being sent to KSeF. If the answer was lost, Odoo checks with KSeF before sending again."),
            "processing": _("KSeF received the invoice (sent %(when)s) and is processing it.", when=when),
            "accepted": _(
                "Accepted by KSeF on %(when)s with number %(number)s. It can only be changed by a correction invoice.",
                when=when,
                number=document.ksef_number,
            ),
            "rejected": _(
                "KSeF rejected this invoice (code %(code)s): %(reason)s Reset it to draft, fix it and send it again.",
                code=document.status_code,
                reason=document.reason or "",
            )
            + (
                " "
                + _(
                    "The customer already has this offline invoice: the fixed one goes to KSeF as its technical "
                    "correction, linked to the rejected file, with the same offline mode and deadline."
                )
                if self._l10n_pl_ksef_blocks_corrections()
                else ""
            ),
        }
        text = texts.get(document.state, "")
        if document.state == "to_send" and document.last_error:
            text = _("Waiting to be sent to KSeF: %(reason)s", reason=document.reason or document.last_error)
        if document.state == "to_send" and document.waits_for_id and not document.invoice_hash:
            text = _(
                "Waits for the KSeF number of %(invoice)s, which it corrects and which KSeF has not accepted yet "
                "(issued offline, or still being processed): it is made and sent right after.",
                invoice=document.waits_for_id.move_id.name,
            )
        elif self._l10n_pl_ksef_offline_pending():
            text = self._l10n_pl_ksef_offline_banner(document) + " " + text
        elif document.state == "accepted" and document.ksef_invoicing_mode == "Offline":
            text += " " + _(
                "KSeF recorded it as an offline invoice, as it does for every invoice that reaches it after its "
                "issue day: that is not an error."
            )
        return Markup(escape(text))

    def _l10n_pl_ksef_offline_banner(self, document):
        if document.offline_deadline:
            deadline = _("by %(date)s", date=format_date(self.env, document.offline_deadline))
        else:
            deadline = _("once the outage KSeF announced is over")
        return _(
            "Issued offline (%(mode)s): the PDF carries the QR codes KOD I (OFFLINE) and KOD II and can go to the "
            "customer. It must reach KSeF %(deadline)s; Odoo sends it as soon as KSeF answers.",
            mode=document._l10n_pl_ksef_mode_label(),
            deadline=deadline,
        )

    # ------------------------------------------------------------------ which invoices

    def _l10n_pl_ksef_sendable(self):
        """The posted customer invoices / credit notes of KSeF companies, dated from their KSeF start
        date, that have no KSeF document yet (or only rejected / withdrawn ones) and are not held
        (``l10n_pl_ksef_hold``: to fix before KSeF)."""
        return self.filtered(
            lambda move: move.move_type in SENDABLE_TYPES
            and move.state == "posted"
            and move.company_id.l10n_pl_ksef_active
            and move.l10n_pl_ksef_state not in LIVE_STATES
            and not move.l10n_pl_ksef_hold
            and not move._l10n_pl_ksef_before_start()
        )

    def _l10n_pl_ksef_before_start(self):
        start = self.company_id.l10n_pl_ksef_start_date
        return bool(start and (self.invoice_date or fields.Date.context_today(self)) < start)

    def _l10n_pl_ksef_refusals(self):
        """``{move: why it cannot be sent}`` for these moves (in the user's language)."""
        refusals = {}
        for move in self:
            if move.move_type not in SENDABLE_TYPES:
                refusals[move] = _("Only customer invoices and credit notes are sent to KSeF.")
            elif move.state != "posted":
                refusals[move] = _("Confirm the invoice before sending it to KSeF.")
            elif not move.company_id.l10n_pl_ksef_active:
                refusals[move] = _(
                    "KSeF is not enabled for %(company)s (Settings > KSeF).", company=move.company_id.name
                )
            elif move._l10n_pl_ksef_before_start():
                refusals[move] = _(
                    "The invoice is dated before the company's KSeF start date (%(date)s): it is not sent to KSeF.",
                    date=move.company_id.l10n_pl_ksef_start_date,
                )
            elif move.l10n_pl_ksef_state in LIVE_STATES:
                refusals[move] = _(
                    "The invoice is already in KSeF or on its way (%(number)s).", number=move.l10n_pl_ksef_number or "-"
                )
            elif move.l10n_pl_ksef_hold:
                refusals[move] = _(
                    "The invoice is held from KSeF until fixed: its KSeF document (FA(3)) would be refused. "
                    "%(problems)s\nFix it (reset to draft, fix, confirm again), or click Check again once it is fixed.",
                    problems=move.l10n_pl_ksef_hold,
                )
        return refusals

    # ------------------------------------------------------------------ queueing

    def _l10n_pl_ksef_queue(self, user=None, built=None):
        """Freeze the FA(3) of the sendable invoices among these and queue them.

        ``built``: ``{move id: Fa3Document}`` already made (posting). Returns ``(documents,
        problems)`` where ``problems`` maps a move to the text of what keeps its FA(3) from KSeF.
        """
        sendable = self._l10n_pl_ksef_sendable()
        if not sendable:
            return self.env["l10n_pl_ksef.document"], {}
        now = fields.Datetime.now()
        # a correction of an invoice KSeF has not accepted yet (issued offline...) waits for its number: queued
        # after the invoices of this call, waiting for that invoice's document
        deferred = sendable.filtered(
            lambda m: m.move_type == "out_refund"
            and (m.reversed_entry_id in sendable or m.reversed_entry_id._l10n_pl_ksef_blocks_corrections())
        )
        sendable -= deferred
        if built is None or any(move.id not in built for move in sendable):
            built = sendable.with_context(l10n_pl_ksef_created_at=now)._l10n_pl_ksef_fa3_documents()
        user = user if user is not None else self.env.user
        Document = self.env["l10n_pl_ksef.document"].sudo()
        values, problems = [], {}
        lang = self.env.lang
        for move in sendable:
            fa3 = built[move.id]
            if fa3.problems or not fa3.xml:
                problems[move] = fa3.text(lang)
                continue
            values.append(
                {
                    "move_id": move.id,
                    "company_id": move.company_id.id,
                    **move._l10n_pl_ksef_frozen_values(fa3),
                    "ksef_user_id": user.id or False,
                    "environment": move.company_id.l10n_pl_ksef_environment,
                    **Document._l10n_pl_ksef_technical_correction_values(move),
                }
            )
        documents = self.env["l10n_pl_ksef.document"].sudo().create(values) if values else Document
        documents |= deferred._l10n_pl_ksef_queue_waiting(user, problems)
        if documents:
            documents._l10n_pl_ksef_audit_queued()
            self.env.ref(CRON_XMLID).sudo()._trigger()
        return documents, problems

    @api.model
    def _l10n_pl_ksef_frozen_values(self, fa3):
        """The document values freezing an FA(3): its XML and the SHA-256 of exactly those bytes."""
        xml = fa3.xml if isinstance(fa3.xml, bytes) else fa3.xml.encode("utf-8")
        return {"xml": xml.decode("utf-8"), "invoice_hash": sha256_b64(xml)}

    # ------------------------------------------------------------------ buttons

    def _l10n_pl_ksef_send_now(self, raise_on_problem=True):
        """Queue these invoices and send them at once (a few) or in the background (many).

        Returns ``{move: error text}`` for the invoices that could not go (errors as data), or raises
        a ``UserError`` listing them when ``raise_on_problem``.
        """
        return self._l10n_pl_ksef_send_click(raise_on_problem=raise_on_problem)[0]

    def _l10n_pl_ksef_send_click(self, raise_on_problem=True):
        """:meth:`_l10n_pl_ksef_send_now`, returning ``(errors, {"time_up": bool, "busy": bool})``: only
        these invoices (and the invoices their credit notes wait for) are sent now, within a click's time;
        a selection of a batch's size, and whatever the time did not allow, go to the cron."""
        self.env["res.company"]._with_locked_records(self)
        refusals = self._l10n_pl_ksef_refusals()
        sendable = self - self.browse([move.id for move in refusals])
        documents, problems = sendable._l10n_pl_ksef_queue()
        errors = dict(refusals)
        errors.update(problems)
        if errors and raise_on_problem and (len(self) == 1 or not documents):
            raise UserError(
                "\n\n".join("%s: %s" % (move.name or move.display_name, text) for move, text in errors.items())
            )
        Document = self.env["l10n_pl_ksef.document"]
        threshold = Document._l10n_pl_ksef_batch_threshold()
        now = Document.browse(
            [
                document.id
                for company_documents in documents.grouped("company_id").values()
                if len(company_documents) < threshold
                for document in company_documents
            ]
        )
        summary = now._l10n_pl_ksef_click() if now else {"time_up": False, "busy": False}
        Document._l10n_pl_ksef_wake_up()
        return errors, summary

    def action_l10n_pl_ksef_send(self):
        """Send to KSeF (form button and list action)."""
        moves = self.filtered(lambda m: m.move_type in SENDABLE_TYPES) or self
        errors, summary = moves._l10n_pl_ksef_send_click()
        if summary.get("tokens_ended"):
            self.env["res.company"]._l10n_pl_ksef_redirect_tokens_ended()
        return moves._l10n_pl_ksef_notification(errors, time_up=summary["time_up"])

    def _l10n_pl_ksef_outcome(self, errors):
        """``{move: outcome}``, each invoice counted once: "accepted", "processing" (on its way), "error"
        (refused by this click), "rejected", "offline" (issued offline, waiting for KSeF), "waiting"
        (waiting after an error) or "background" (queued: the cron sends it)."""
        outcome = {}
        for move in self:
            state = move.l10n_pl_ksef_state
            if state == "accepted":
                outcome[move] = "accepted"
            elif state in ("sending", "processing"):
                outcome[move] = "processing"  # already on its way: a refusal to send it again is no failure
            elif state == "to_send":  # queued (before this click or by it)
                if move._l10n_pl_ksef_offline_pending():
                    outcome[move] = "offline"
                elif move.l10n_pl_ksef_document_id.last_error:
                    outcome[move] = "waiting"
                else:
                    outcome[move] = "background"
            elif move in errors:
                outcome[move] = "error"
            elif state == "rejected":
                outcome[move] = "rejected"
            else:
                outcome[move] = "processing"
        return outcome

    def _l10n_pl_ksef_notification(self, errors, time_up=False):
        outcome = self._l10n_pl_ksef_outcome(errors)
        counts = dict.fromkeys(("accepted", "processing", "error", "rejected", "offline", "waiting", "background"), 0)
        for value in outcome.values():
            counts[value] += 1
        offline = counts["offline"]
        waiting = self.filtered(lambda m: outcome[m] == "waiting")
        parts = [
            _("%(count)s accepted", count=counts["accepted"]),
            _("%(count)s being processed", count=counts["processing"]),
            _("%(count)s rejected", count=counts["rejected"]),
        ]
        if offline:
            parts.append(
                _("%(count)s issued offline (to deliver with their QR codes; sent when KSeF answers)", count=offline)
            )
        if waiting:
            parts.append(
                _(
                    "%(count)s waiting: %(reason)s",
                    count=len(waiting),
                    reason=waiting[0].l10n_pl_ksef_document_id.last_error,
                )
            )
        if counts["background"]:
            parts.append(_("%(count)s will be sent in the background", count=counts["background"]))
        if counts["error"]:
            parts.append(_("%(count)s not sent", count=counts["error"]))
        message = ", ".join(parts)
        if time_up:
            message += ". " + _(
                "This click's time was up: sending continues in the background; reopen the invoices in a minute "
                "to see KSeF's answer."
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Send to KSeF"),
                "message": message,
                "type": "danger"
                if counts["rejected"] or counts["error"]
                else "warning"
                if waiting or offline or counts["background"]
                else "success",
                "sticky": bool(counts["rejected"] or counts["error"] or waiting),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_l10n_pl_ksef_check_status(self):
        """Ask KSeF now about these invoices (and send those of them that are queued), within a click's time."""
        documents = self.l10n_pl_ksef_document_id
        summary = documents._l10n_pl_ksef_click() if documents else {"time_up": False}
        # refused by this click, or by the last login (not tried again before its retry time)
        ended = tokens_ended_error().message_en
        if summary.get("tokens_ended") or any(d.last_error == ended for d in documents.sudo()):
            self.env["res.company"]._l10n_pl_ksef_redirect_tokens_ended()
        return self._l10n_pl_ksef_notification({}, time_up=summary["time_up"])

    def action_l10n_pl_ksef_download_upo(self):
        self.ensure_one()
        document = self.l10n_pl_ksef_document_id
        if not document or document.state != "accepted":
            raise UserError(_("Only an invoice accepted by KSeF has a UPO."))
        return document.sudo().action_l10n_pl_ksef_download_upo()

    def action_l10n_pl_ksef_manual_number(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("KSeF number issued outside Odoo"),
            "res_model": "l10n_pl_ksef.manual.number",
            "view_mode": "form",
            "target": "new",
            "context": {"default_move_id": self.id},
        }

    def action_l10n_pl_ksef_documents(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("l10n_pl_ksef.l10n_pl_ksef_document_action")
        action["domain"] = [("move_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------ reset to draft

    def button_draft(self):
        for move in self:
            state = move.l10n_pl_ksef_state
            if state == "accepted":
                raise UserError(
                    _(
                        "%(invoice)s was accepted by KSeF (number %(number)s): it cannot go back to draft. "
                        "Only a correction invoice can change it.",
                        invoice=move.name,
                        number=move.l10n_pl_ksef_number,
                    )
                )
            if state in ("sending", "processing"):
                raise UserError(
                    _(
                        "%(invoice)s is with KSeF right now: wait for its answer (Check status), then decide.",
                        invoice=move.name,
                    )
                )
            if move._l10n_pl_ksef_offline_pending():
                raise UserError(
                    _(
                        "%(invoice)s was issued offline: the customer may already have it, with its QR codes, and it "
                        "must reach KSeF by %(date)s. It cannot go back to draft; once KSeF has it, a correction "
                        "invoice changes it.",
                        invoice=move.name,
                        date=format_date(self.env, move.l10n_pl_ksef_offline_deadline) or "-",
                    )
                )
        queued = self.l10n_pl_ksef_document_id.filtered(lambda d: d.state == "to_send")
        if queued:
            # withdrawn before it left, claimed in the database: a document the sender took meanwhile is not
            # withdrawn, and one withdrawn here is never sent (the sender claims from the queue too)
            withdrawn = queued._l10n_pl_ksef_claim("to_send", "cancelled", wait=True)
            if queued - withdrawn:
                raise UserError(
                    _(
                        "%(invoices)s left for KSeF a moment ago: wait for its answer (Check status), then decide.",
                        invoices=", ".join((queued - withdrawn).move_id.mapped("name")),
                    )
                )
        return super().button_draft()

    def _post(self, soft=True):
        # an invoice KSeF holds (or is receiving) is never confirmed again under the same number with other contents
        for move in self.filtered(lambda m: m.state == "draft" and m.l10n_pl_ksef_document_ids):
            in_ksef = move.l10n_pl_ksef_document_ids.filtered(lambda d: d.state in IN_KSEF_STATES)
            if in_ksef.filtered(lambda d: d.state == "accepted"):
                raise UserError(
                    _(
                        "%(invoice)s cannot be confirmed again: KSeF holds it under number %(number)s with the "
                        "contents it had when it was sent (the FA(3) is under its KSeF documents). Ask your "
                        "administrator to restore those contents; once confirmed, only a correction invoice "
                        "changes it.",
                        invoice=move.name,
                        number=in_ksef.filtered(lambda d: d.state == "accepted")[:1].ksef_number,
                    )
                )
            if in_ksef:
                raise UserError(
                    _(
                        "%(invoice)s cannot be confirmed again: KSeF is receiving it with the contents it had when "
                        "it was sent. Wait for KSeF's answer (KSeF documents of the invoice).",
                        invoice=move.name,
                    )
                )
        return super()._post(soft=soft)

    @api.depends("l10n_pl_ksef_state", "l10n_pl_ksef_invoicing_mode")
    def _compute_show_reset_to_draft_button(self):
        res = super()._compute_show_reset_to_draft_button()
        for move in self:
            if move.l10n_pl_ksef_state in ("sending", "processing", "accepted") or move._l10n_pl_ksef_offline_pending():
                move.show_reset_to_draft_button = False
        return res
