"""One KSeF document: an invoice as it was (or will be) submitted to KSeF, with KSeF's answer.

The document freezes the FA(3) XML and its hash when the invoice is queued, so what KSeF gets is
what was posted; it keeps the session and element reference numbers, the KSeF number, the
acceptance time, the UPO, the status code and a plain reason, the user it is sent for, the attempts
and the next try. The invoice's KSeF state is computed from its documents.

States (``TRANSITIONS`` below is the one table of the allowed moves)::

    to_send ──► sending ──► processing ──► accepted
     │  ▲          │  │          ├───────► rejected
     │  └──────────┘  └► rejected└► to_send (a batch KSeF did not process; an offline file sent again)
     ├► cancelled (withdrawn: the invoice went back to draft before it left)
     └► rejected (its FA(3) could not be made: a correction that waited for a number)

A document in ``sending`` may or may not have reached KSeF: the engine resolves it from the stored
session reference and hash before anything else is sent.

Every change of state goes through :meth:`_l10n_pl_ksef_claim`: one locked read of the state in the
database and the write, so that two actors (the sender and a user resetting the invoice to draft, the
cron and a click, the offline switch and the sender) can never both act on the same document.
"""

import logging

import psycopg2.errors

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .l10n_pl_ksef_budget import click_budget

_logger = logging.getLogger(__name__)

#: the states in which an invoice has a live KSeF document (at most one per invoice)
LIVE_STATES = ("to_send", "sending", "processing", "accepted")
#: the states the engine must still act on
PENDING_STATES = ("to_send", "sending", "processing")

STATES = [
    ("to_send", "To send"),
    ("sending", "Sending"),
    ("processing", "Processing in KSeF"),
    ("accepted", "Accepted"),
    ("rejected", "Rejected"),
    ("cancelled", "Cancelled"),
]

#: the allowed changes of state, from -> {to}; writing the same state again (a claim that only locks the
#: document and writes other values, e.g. the offline switch) is always allowed
TRANSITIONS = {
    "to_send": {"sending", "cancelled", "rejected"},
    "sending": {"processing", "to_send", "rejected"},
    "processing": {"accepted", "rejected", "to_send"},
    "accepted": set(),
    "rejected": set(),
    "cancelled": set(),
}

#: the errors of a row another transaction changed or holds: the engine leaves that document for its next run
CONCURRENT_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.LockNotAvailable,
    psycopg2.errors.DeadlockDetected,
)


class IllegalTransition(Exception):
    """A programming error: a change of state ``TRANSITIONS`` does not allow."""


#: how the invoice was issued; the offline modes use the same document with their own deadlines
INVOICING_MODES = [
    ("online", "Online"),
    ("offline24", "Offline24"),
    ("offline", "Offline (KSeF unavailable)"),
    ("emergency", "Emergency"),
    ("manual", "Issued outside Odoo"),
]


#: the modes of invoices issued offline: printed with KOD I (OFFLINE) and KOD II, sent with offlineMode
OFFLINE_MODES = ("offline24", "offline", "emergency")


class L10nPlKsefDocument(models.Model):
    _name = "l10n_pl_ksef.document"
    _description = "KSeF document"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(related="move_id.name", string="Invoice number")
    move_id = fields.Many2one(
        "account.move", string="Invoice", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    partner_id = fields.Many2one(related="move_id.partner_id", string="Customer")
    move_type = fields.Selection(related="move_id.move_type")
    amount_total = fields.Monetary(related="move_id.amount_total", currency_field="currency_id")
    currency_id = fields.Many2one(related="move_id.currency_id")
    direction = fields.Selection([("out", "Issued"), ("in", "Received")], default="out", required=True, readonly=True)
    state = fields.Selection(STATES, default="to_send", required=True, index=True, readonly=True)
    invoicing_mode = fields.Selection(INVOICING_MODES, default="online", required=True, readonly=True)
    xml = fields.Text(string="FA(3) XML", readonly=True, prefetch=False)
    invoice_hash = fields.Char(string="SHA-256 (Base64)", readonly=True, index="btree_not_null")
    environment = fields.Char(readonly=True)
    session_id = fields.Many2one("l10n_pl_ksef.session", readonly=True, index="btree_not_null")
    session_reference = fields.Char(related="session_id.reference", string="Session reference")
    reference_number = fields.Char(string="Element reference", readonly=True)
    ksef_number = fields.Char(string="KSeF number", readonly=True, index="btree_not_null")
    duplicate = fields.Boolean(string="Duplicate (440)", readonly=True)
    acceptance_date = fields.Datetime(string="Accepted by KSeF", readonly=True)
    sent_date = fields.Datetime(string="Sent", readonly=True)
    status_code = fields.Integer(readonly=True)
    reason_en = fields.Text(readonly=True)
    reason_pl = fields.Text(readonly=True)
    reason = fields.Text(compute="_compute_reason")
    upo_url = fields.Char(readonly=True, groups="base.group_system")
    upo_attachment_id = fields.Many2one("ir.attachment", string="UPO", readonly=True)
    ksef_user_id = fields.Many2one("res.users", string="Sent for", readonly=True)
    attempts = fields.Integer(readonly=True)
    next_try = fields.Datetime(readonly=True, index="btree_not_null")
    last_error = fields.Text(readonly=True)

    _one_live_document = models.UniqueIndex(
        "(move_id) WHERE state IN ('to_send', 'sending', 'processing', 'accepted')",
        "An invoice has one KSeF document at a time.",
    )

    @api.depends_context("lang")
    @api.depends("reason_en", "reason_pl", "last_error")
    def _compute_reason(self):
        polish = (self.env.lang or "").startswith("pl")
        for document in self:
            text = document.reason_pl if polish else document.reason_en
            document.reason = text or document.reason_en or document.last_error or False

    @api.depends("move_id.name", "state")
    def _compute_display_name(self):
        labels = dict(self._fields["state"]._description_selection(self.env))
        for document in self:
            document.display_name = "%s (%s)" % (document.move_id.name or "", labels.get(document.state))

    def _l10n_pl_ksef_mode_label(self):
        """The invoicing mode in the user's words (Offline24, Emergency…)."""
        self.ensure_one()
        return dict(self._fields["invoicing_mode"]._description_selection(self.env)).get(self.invoicing_mode)

    def _l10n_pl_ksef_responsible(self):
        """Who gets this invoice's KSeF to-dos: its salesperson, else its creator, else the user it was sent for."""
        self.ensure_one()
        move = self.move_id
        user = move.invoice_user_id or move.create_uid
        if not user or not user.active or user.share:
            user = self.ksef_user_id or self.env.user
        return user

    # ------------------------------------------------------------------ writing outcomes

    def _l10n_pl_ksef_set(self, values):
        """Write ``values`` on these documents (one UPDATE for all); the invoices' stored KSeF fields
        follow by recomputation at the next flush. The state is never written here: see
        :meth:`_l10n_pl_ksef_claim`."""
        if "state" in values:
            raise IllegalTransition("the state of a KSeF document changes only through _l10n_pl_ksef_claim")
        if self:
            self.write(values)

    def _l10n_pl_ksef_claim(self, from_states, to_state, values=None, wait=False, each=None, audit=True):
        """Move those of these documents that are in one of ``from_states`` *in the database* to
        ``to_state`` (and write ``values``, and ``each[document id]`` on that document: what differs
        from one document to the next, e.g. KSeF numbers); returns the documents claimed, read afresh.
        The others (withdrawn, taken or decided by someone else meanwhile) are left as they are.

        The state is read with a row lock (``SELECT ... FOR UPDATE``) in the same transaction as the
        write, so no other transaction can change it between the check and the write. The engine
        (``wait=False``) skips the rows another transaction holds, and a row another transaction changed
        after its snapshot is left for the next run (nothing raises); a user's action (``wait=True``)
        waits for the lock, and a conflict goes up to Odoo, which retries the request.

        Each transition leaves its line in the invoice's chatter (:meth:`_l10n_pl_ksef_audit`), one batch for
        all the documents claimed; ``audit=False``: the caller logs it (:meth:`_l10n_pl_ksef_audit_later`)."""
        from_states = (from_states,) if isinstance(from_states, str) else tuple(from_states)
        illegal = [state for state in from_states if state != to_state and to_state not in TRANSITIONS[state]]
        if illegal:
            _logger.error("KSeF: refused change of state %s -> %s", "/".join(illegal), to_state)
            raise IllegalTransition("KSeF document: %s -> %s is not allowed" % ("/".join(illegal), to_state))
        if not self:
            return self
        if wait:
            claimed = self._l10n_pl_ksef_claim_rows(from_states, to_state, values, SQL("FOR UPDATE"), each)
        else:
            try:
                with self.env.cr.savepoint():
                    claimed = self._l10n_pl_ksef_claim_rows(
                        from_states, to_state, values, SQL("FOR UPDATE SKIP LOCKED"), each
                    )
            except CONCURRENT_ERRORS as exc:
                _logger.info(
                    "KSeF: %s document(s) changed by another transaction; left for the next run (%s)",
                    len(self),
                    exc.__class__.__name__,
                )
                return self.browse()
        if audit and claimed and any(state != to_state for state in from_states):
            claimed._l10n_pl_ksef_audit(to_state)
        return claimed

    def _l10n_pl_ksef_claim_rows(self, from_states, to_state, values, lock, each=None):
        self.flush_recordset()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM l10n_pl_ksef_document WHERE id IN %s AND state IN %s ORDER BY id %s",
                tuple(self.ids),
                from_states,
                lock,
            )
        )
        claimed = self.browse([row[0] for row in self.env.cr.fetchall()])
        # what another transaction wrote (a withdrawal, the offline switch...) is read afresh from here on
        self.invalidate_recordset()
        if claimed:
            claimed.sudo().write(dict(values or {}, state=to_state))
            for document in claimed.sudo():
                if each and each.get(document.id):
                    document.write(each[document.id])
            # the invoices' stored KSeF fields are written now, under the same guard (one UPDATE per table)
            self.env.flush_all()
        return claimed

    def _l10n_pl_ksef_error_values(self, exc_or_text_en, text_pl=None, **extra):
        if hasattr(exc_or_text_en, "message_en"):
            text_en, text_pl = exc_or_text_en.message_en, exc_or_text_en.message_pl
        else:
            text_en = exc_or_text_en
        values = {"reason_en": text_en, "reason_pl": text_pl or text_en, "last_error": text_en}
        values.update(extra)
        return values

    # ------------------------------------------------------------------ buttons

    def action_open_invoice(self):
        self.ensure_one()
        return self.move_id._get_records_action()

    def action_l10n_pl_ksef_download_upo(self):
        self.ensure_one()
        if not self.upo_attachment_id:
            # this document's UPO only, within a click's time
            self._l10n_pl_ksef_with_budget(click_budget())._l10n_pl_ksef_fetch_upos(interactive=True)
        if not self.upo_attachment_id:
            raise UserError(
                _("KSeF has not issued the UPO for %(invoice)s yet: try again in a moment.", invoice=self.name)
            )
        return {
            "type": "ir.actions.act_url",
            "url": "/web/content/%s?download=true" % self.upo_attachment_id.id,
            "target": "download",
        }
