"""Invoices issued offline (offline24, KSeF unavailable, emergency): the mode, the moment and the legal deadline.

A document goes offline when the user chooses *Issue offline24*, or when a send finds KSeF unreachable and the
company's setting *When KSeF is unavailable* says to issue offline (``_l10n_pl_ksef_unreachable``). Its FA(3)
and hash stay exactly as frozen when it was queued: those bytes carry KOD I (labelled OFFLINE) and KOD II on the
PDF the customer gets, and those bytes are sent with ``offlineMode`` once KSeF answers again, in issue order.
The deadline is computed in Polish business days (``ksef_core.offline``), moved by the outages Latarnia announced.
"""

import datetime
import logging

from odoo import _, fields, models

from ..ksef_core.errors import KsefError
from ..ksef_core.offline import MODE_OF_STATUS, OFFLINE24, TOTAL_FAILURE, outages_from_messages, send_deadline
from .l10n_pl_ksef_document import OFFLINE_MODES
from .l10n_pl_ksef_document_send import RETRY_DELAY

_logger = logging.getLogger(__name__)


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

    def _l10n_pl_ksef_is_offline(self):
        self.ensure_one()
        return self.invoicing_mode in OFFLINE_MODES

    def _l10n_pl_ksef_go_offline(self, mode, reason, outages=()):
        """Issue these queued documents offline in ``mode`` now, for ``reason`` (text)."""
        now = fields.Datetime.now()
        for document in self:
            deadline = send_deadline(mode, now.replace(tzinfo=datetime.timezone.utc), outages)
            document._l10n_pl_ksef_set(
                {
                    "invoicing_mode": mode,
                    "offline_issued_at": now,
                    "offline_deadline": deadline,
                    "offline_reason": reason,
                }
            )
            labels = dict(self._fields["invoicing_mode"]._description_selection(self.env))
            body = _(
                "Issued offline (%(mode)s): %(reason)s The invoice carries the QR codes KOD I (OFFLINE) and KOD II "
                "and can be delivered to the customer now. It is sent to KSeF as soon as KSeF answers again; "
                "deadline: %(deadline)s.",
                mode=labels.get(mode, mode),
                reason=reason,
                deadline=deadline or _("when the announced outage ends"),
            )
            document.move_id.sudo().message_post(body=body)
        _logger.info("KSeF: %s invoice(s) issued offline (%s)", len(self), mode)

    def _l10n_pl_ksef_unreachable(self, company, client, exc, result, now):
        """KSeF could not be reached: per the company's setting, issue the online documents waiting offline
        (they need the Offline certificate for KOD II), or keep them waiting; either way they are tried again."""
        waiting = self.filtered(lambda d: d.state == "to_send")
        online = waiting.filtered(lambda d: d.invoicing_mode == "online")
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
        online._l10n_pl_ksef_go_offline(mode, text, outages)
        result["offline"] = result.get("offline", 0) + len(online)

    def _l10n_pl_ksef_refresh_deadlines(self, client):
        """The deadlines of the offline documents among these that KSeF does not have yet, computed again with
        the outages Latarnia announces now (an outage's end, a failure that moves a deadline)."""
        pending = self.filtered(lambda d: d.invoicing_mode in OFFLINE_MODES and d.state in ("to_send", "sending"))
        if not pending:
            return
        try:
            outages = outages_from_messages(client.latarnia_messages())
        except (KsefError, OSError):
            return
        utc = datetime.timezone.utc
        for document in pending:
            deadline = send_deadline(document.invoicing_mode, document.offline_issued_at.replace(tzinfo=utc), outages)
            if deadline != document.offline_deadline:
                document._l10n_pl_ksef_set({"offline_deadline": deadline})

    def _l10n_pl_ksef_latarnia_mode(self, client):
        """(offline mode, outages) from Latarnia's status; offline24 when Latarnia announces nothing (or is
        silent too)."""
        try:
            status = client.latarnia_status() or {}
        except (KsefError, OSError) as exc:
            _logger.info("KSeF: Latarnia could not be read (%s): offline24", exc.__class__.__name__)
            return OFFLINE24, []
        mode = MODE_OF_STATUS.get(str(status.get("status") or "").upper(), OFFLINE24)
        if mode == TOTAL_FAILURE:
            # no sending duty in a total failure; sent anyway once KSeF is back, within the emergency deadline
            mode = "emergency"
        try:
            messages = client.latarnia_messages()
        except (KsefError, OSError):
            messages = status.get("messages")
        return mode, outages_from_messages(messages)
