"""Invoices issued offline (offline24, KSeF unavailable, emergency): the mode, the moment and the legal deadline.

A document goes offline when the user chooses *Issue offline24*, or when a send finds KSeF unreachable and the
company's setting *When KSeF is unavailable* says to issue offline (``_l10n_pl_ksef_unreachable``). Its FA(3)
and hash stay exactly as frozen when it was queued: those bytes carry KOD I (labelled OFFLINE) and KOD II on the
PDF the customer gets, and those bytes are sent with ``offlineMode`` once KSeF answers again, in issue order.
The deadline is computed in Polish business days (``ksef_core.offline``), moved by the outages Latarnia announced.
"""

import datetime
import logging

from odoo import _, api, fields, models
from odoo.tools import format_date

from ..ksef_core.calendar_pl import next_business_day, warsaw_now
from ..ksef_core.errors import KsefError
from ..ksef_core.offline import MODE_OF_STATUS, OFFLINE24, TOTAL_FAILURE, outages_from_messages, send_deadline
from .l10n_pl_ksef_budget import cron_budget, deadline_in, seconds_to
from .l10n_pl_ksef_document import OFFLINE_MODES
from .l10n_pl_ksef_document_send import RETRY_DELAY

_logger = logging.getLogger(__name__)

DEADLINE_ACTIVITY_XMLID = "l10n_pl_ksef.mail_activity_type_ksef_offline_deadline"
DEADLINE_CRON_XMLID = "l10n_pl_ksef.ir_cron_l10n_pl_ksef_offline_deadlines"
#: rejections a technical correction cannot fix: no permission to issue for the seller (API-NOTES §9)
TECHNICAL_CORRECTION_REFUSED = (410,)
#: invoice status codes that call for the same file again (405 session error, 435 decryption, 500/550 KSeF's)
RESEND_SAME_FILE = (405, 435, 500, 550)
RESEND_ATTEMPTS = 5


def _moment(stored):
    """An aware UTC moment for a stored datetime (kept to the second; ``ksef_core.offline`` allows for that)."""
    return stored.replace(tzinfo=datetime.timezone.utc)


class L10nPlKsefDocument(models.Model):
    _inherit = "l10n_pl_ksef.document"

    offline_issued_at = fields.Datetime(string="Issued offline at", readonly=True)
    offline_deadline = fields.Date(
        string="Send to KSeF by",
        readonly=True,
        index="btree_not_null",
        help="The last day on which this offline invoice may reach KSeF (VAT Act art. 106nda, 106nf, 106nh), "
        "counted in Polish business days. Empty while the announced outage it depends on goes on.",
    )
    offline_reason = fields.Text(string="Why offline", readonly=True)
    ksef_invoicing_mode = fields.Char(
        string="Recorded by KSeF as",
        readonly=True,
        help="Online or Offline, as KSeF recorded the invoice: KSeF records as offline every invoice that reaches "
        "it after its issue day. That is not an error.",
    )

    waits_for_id = fields.Many2one(
        "l10n_pl_ksef.document",
        string="Waits for",
        readonly=True,
        index="btree_not_null",
        help="A correction of an invoice KSeF has not accepted yet (e.g. issued offline) waits for its KSeF number: "
        "its FA(3) is made, naming that number, and sent once KSeF has accepted the corrected invoice.",
    )

    hash_of_corrected = fields.Char(
        string="Technical correction of",
        readonly=True,
        help="SHA-256 of the offline invoice file KSeF rejected, which this fixed file replaces (technical "
        "correction: sent with hashOfCorrectedInvoice, in an online session).",
    )

    def _l10n_pl_ksef_go_offline(self, mode, reason, outages=(), wait=False):
        """Issue these queued documents offline in ``mode`` now, for ``reason`` (text); returns those issued.

        They are claimed in the queue (``to_send`` kept, the rows locked): one the sender took meanwhile has left
        online and is not issued offline. ``wait``: a user's action (waits for the row; a conflict is retried)."""
        now = fields.Datetime.now()
        issued = self._l10n_pl_ksef_claim(
            "to_send",
            "to_send",
            {"invoicing_mode": mode, "offline_issued_at": now, "offline_reason": reason},
            wait=wait,
        )
        texts = {}
        for document in issued:
            deadline = send_deadline(mode, _moment(now), outages, issue_date=document.move_id.invoice_date)
            document._l10n_pl_ksef_set({"offline_deadline": deadline})
            texts[document] = _(
                "Issued offline (%(mode)s): %(reason)s The invoice carries the QR codes KOD I (OFFLINE) and KOD II "
                "and can be delivered to the customer now. It is sent to KSeF as soon as KSeF answers again; "
                "deadline: %(deadline)s.",
                mode=document._l10n_pl_ksef_mode_label(),
                reason=reason,
                deadline=format_date(self.env, deadline) if deadline else _("when the announced outage ends"),
            )
        self._l10n_pl_ksef_log(texts)
        _logger.info("KSeF: %s invoice(s) issued offline (%s)", len(issued), mode)
        return issued

    def _l10n_pl_ksef_unreachable(self, company, client, exc, result, now):
        """KSeF could not be reached: per the company's setting, issue the online documents waiting offline
        (they need the Offline certificate for KOD II), or keep them waiting; either way they are tried again."""
        waiting = self.filtered(lambda d: d.state == "to_send")
        online = waiting.filtered(lambda d: d.invoicing_mode == "online" and d.invoice_hash)
        text = exc.message_en if isinstance(exc, KsefError) else str(exc)
        waiting._l10n_pl_ksef_set({"last_error": text, "next_try": now + RETRY_DELAY})
        result.update(error=text, error_code="unavailable")
        if not online:
            return
        if company.l10n_pl_ksef_unavailable_mode != "offline":
            online._l10n_pl_ksef_set(
                {
                    "last_error": _(
                        "KSeF cannot be reached (%(error)s). As the company's setting 'When KSeF is unavailable' "
                        "says, the invoice waits and is sent as soon as KSeF answers.",
                        error=text,
                    )
                }
            )
            return
        problem = company._l10n_pl_ksef_offline_certificate_problem()
        if problem:
            online._l10n_pl_ksef_set({"last_error": "%s\n%s" % (text, problem)})
            result.update(error="%s\n%s" % (text, problem))
            return
        mode, outages = self._l10n_pl_ksef_latarnia_mode(client)
        issued = online._l10n_pl_ksef_go_offline(mode, text, outages)
        result["offline"] = result.get("offline", 0) + len(issued)

    def _l10n_pl_ksef_latarnia(self, client):
        """``(status, outages)`` from Latarnia, read once per run (cached on the client); ``(None, [])`` when it
        does not answer or answers nonsense: then nothing is decided from it."""
        cached = getattr(client, "_l10n_pl_ksef_latarnia", None)
        if cached is not None:
            return cached
        try:
            status = client.latarnia_status()
            messages = client.latarnia_messages()
            now = datetime.datetime.now(datetime.timezone.utc)
            available = status["status"] == "AVAILABLE"
            snapshot = status["status"] or None, outages_from_messages(messages, now=now, available=available)
        except Exception as exc:  # whatever Latarnia does, it never stops sending
            _logger.info("KSeF: Latarnia gave no usable answer (%s)", exc.__class__.__name__)
            snapshot = None, []
        client._l10n_pl_ksef_latarnia = snapshot
        return snapshot

    def _l10n_pl_ksef_refresh_deadlines(self, client):
        """The deadlines of the offline documents among these that KSeF does not have yet, computed again with
        the outages Latarnia announces now (an outage's end, a failure that moves a deadline); never earlier
        than before (announcements drop out of Latarnia's list)."""
        pending = self.filtered(lambda d: d.invoicing_mode in OFFLINE_MODES and d.state in ("to_send", "sending"))
        if not pending:
            return
        status, outages = self._l10n_pl_ksef_latarnia(client)
        if status is None:
            return
        for document in pending:
            deadline = send_deadline(
                document.invoicing_mode,
                _moment(document.offline_issued_at),
                outages,
                issue_date=document.move_id.invoice_date,
            )
            if deadline and document.offline_deadline:
                deadline = max(deadline, document.offline_deadline)
            if deadline != document.offline_deadline:
                document._l10n_pl_ksef_set({"offline_deadline": deadline})

    def _l10n_pl_ksef_announced_outage(self, company, client, result, now):
        """Before sending: when Latarnia announces maintenance or a failure, the online documents among these
        are handled as if KSeF were unreachable (issued offline or kept waiting) without trying; True then.
        Latarnia silent or slow: False (the send itself finds out)."""
        if not self.filtered(lambda d: d.invoicing_mode == "online" and d.invoice_hash):
            return False
        status, _outages = self._l10n_pl_ksef_latarnia(client)
        if status in (None, "AVAILABLE"):
            return False
        labels = {
            "MAINTENANCE": _("maintenance work (KSeF unavailable)"),
            "FAILURE": _("a failure of KSeF"),
            "TOTAL_FAILURE": _("a total failure of KSeF"),
        }
        reason = _("Latarnia (KSeF's status service) announces %(what)s.", what=labels.get(status, status))
        self._l10n_pl_ksef_unreachable(company, client, KsefError(reason), result, now)
        return True

    def _l10n_pl_ksef_latarnia_mode(self, client):
        """(offline mode, outages) from Latarnia's status; offline24 when Latarnia announces nothing (or is
        silent too)."""
        status, outages = self._l10n_pl_ksef_latarnia(client)
        mode = MODE_OF_STATUS.get(status or "AVAILABLE", OFFLINE24)
        if mode == TOTAL_FAILURE:
            # no sending duty in a total failure; sent anyway once KSeF is back, within the emergency deadline
            mode = "emergency"
        return mode, outages

    @api.model
    def _l10n_pl_ksef_technical_correction_values(self, move):
        """Queue values making ``move``'s new document the technical correction of its rejected offline one:
        the customer already has the offline invoice, so the fixed file is linked to the rejected one and keeps
        its offline mode and deadline."""
        rejected = move.l10n_pl_ksef_document_ids.filtered(
            lambda d: d.state == "rejected" and d.invoicing_mode in OFFLINE_MODES and d.invoice_hash
        ).sorted("id")[-1:]
        if not rejected or rejected.status_code in TECHNICAL_CORRECTION_REFUSED:
            return {}
        return {
            # a rejected technical correction: the file the customer has is still the first one
            "hash_of_corrected": rejected.hash_of_corrected or rejected.invoice_hash,
            "invoicing_mode": rejected.invoicing_mode,
            "offline_issued_at": rejected.offline_issued_at,
            "offline_deadline": rejected.offline_deadline,
            "offline_reason": rejected.offline_reason,
        }

    # ------------------------------------------------------------------ corrections waiting for a number

    def _l10n_pl_ksef_ready(self, now):
        """These due documents, but those waiting for their corrected invoice's KSeF number (tried again later);
        a correction whose corrected invoice KSeF has now decided on gets its FA(3) first."""
        waiting = self.filtered(lambda d: not d.invoice_hash)
        blocked = waiting.filtered(lambda d: d.waits_for_id.move_id._l10n_pl_ksef_blocks_corrections())
        blocked._l10n_pl_ksef_set({"next_try": now + RETRY_DELAY})
        ready = waiting - blocked
        if ready:
            ready._l10n_pl_ksef_freeze()
        return self - blocked - ready.filtered(lambda d: d.state != "to_send")

    def _l10n_pl_ksef_freeze(self):
        """Make and freeze the FA(3) of these queued documents now (a correction that waited for a number)."""
        moves = self.move_id
        built = moves.with_context(l10n_pl_ksef_created_at=fields.Datetime.now())._l10n_pl_ksef_fa3_documents()
        for document in self:
            fa3 = built[document.move_id.id]
            if fa3.problems or not fa3.xml:
                document._l10n_pl_ksef_reject(fa3.text("en_US"), fa3.text("pl_PL"))
                continue
            document._l10n_pl_ksef_set(dict(document.move_id._l10n_pl_ksef_frozen_values(fa3), next_try=False))

    def _l10n_pl_ksef_reject(self, reason_en, reason_pl, code=0):
        """An offline invoice the customer already has, refused for a reason that sending the very same file again
        cures (session error, decryption, KSeF's own error), goes back to the queue: its codes stay valid."""
        self.ensure_one()
        if self.invoicing_mode in OFFLINE_MODES and code in RESEND_SAME_FILE and self.attempts < RESEND_ATTEMPTS:
            self._l10n_pl_ksef_claim(
                ("sending", "processing"),
                "to_send",
                {
                    "session_id": False,
                    "reference_number": False,
                    "last_error": reason_en,
                    "next_try": fields.Datetime.now() + RETRY_DELAY,
                },
            )
            return self.browse()
        return super()._l10n_pl_ksef_reject(reason_en, reason_pl, code=code)

    # ------------------------------------------------------------------ deadlines

    @api.model
    def _cron_l10n_pl_ksef_offline_deadlines(self, today=None):
        """A to-do for each offline invoice not in KSeF yet whose deadline is today or the next business day
        (or past), for its salesperson, else its creator; once per invoice."""
        today = today or warsaw_now().date()
        documents = self.sudo().search(
            [
                ("invoicing_mode", "in", OFFLINE_MODES),
                ("state", "in", ("to_send", "sending")),
                ("offline_deadline", "<=", next_business_day(today)),
            ]
        )
        activity_type = self.env.ref(DEADLINE_ACTIVITY_XMLID, raise_if_not_found=False)
        warned = set(
            documents.move_id.activity_ids.filtered(lambda a: a.activity_type_id == activity_type).mapped("res_id")
        )
        # the job's time comes from the cron worker's real-time limit: the others at its next call (not warned yet)
        deadline = deadline_in(cron_budget(self.env))
        for document in documents.filtered(lambda d: d.move_id.id not in warned):
            if seconds_to(deadline) <= 0:
                self.env.ref(DEADLINE_CRON_XMLID).sudo()._trigger()
                break
            move = document.move_id
            deadline = document.offline_deadline
            user = document._l10n_pl_ksef_responsible()
            move.activity_schedule(
                activity_type_id=activity_type.id if activity_type else False,
                date_deadline=document.offline_deadline,
                summary=_("Offline invoice: KSeF deadline %(date)s", date=format_date(move.env, deadline)),
                note=_(
                    "%(invoice)s was issued offline and is not in KSeF yet; it must reach KSeF by %(date)s. Odoo "
                    "sends it as soon as KSeF answers: check the connection (Settings > KSeF > Test connection) "
                    "and the reason on the invoice.",
                    invoice=move.name,
                    date=format_date(move.env, deadline),
                ),
                user_id=user.id,
            )
        return len(documents)

    def _l10n_pl_ksef_accept_all(self, outcomes, duplicate=False):
        accepted = super()._l10n_pl_ksef_accept_all(outcomes, duplicate=duplicate)
        offline = accepted.filtered(lambda d: d.invoicing_mode in OFFLINE_MODES)
        if offline:
            offline.move_id.sudo().activity_unlink([DEADLINE_ACTIVITY_XMLID])
        # the corrections waiting for these numbers go at the next run (no query for invoices without credit notes)
        corrected = accepted.move_id.filtered("reversal_move_ids")
        if corrected:
            domain = [("waits_for_id.move_id", "in", corrected.ids), ("state", "=", "to_send")]
            self.search([*domain, ("invoice_hash", "=", False)])._l10n_pl_ksef_set({"next_try": False})
        return accepted
