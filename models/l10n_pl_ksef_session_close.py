"""Closing KSeF sessions and keeping their collective UPO.

KSeF issues an online session's collective UPO only once the session is closed. Odoo reuses an
online session while invoices keep coming and closes it after ``IDLE_CLOSE`` without use (or just
before it would expire); the cron then asks KSeF for the session's final status and keeps its UPO as
an attachment of the session. A batch session is closed by the sending itself; its UPO is kept the
same way, and a UPO download that fails is tried again later. Every step that is due is recorded in
the session's ``next_try``, so the cron wakes up for it and sleeps when nothing is due.
"""

import datetime
import logging

from odoo import api, fields, models

from ..ksef_core.client import KsefRateLimited, status_codes
from ..ksef_core.client.errors import KsefApiError
from ..ksef_core.client.online import SESSION_MARGIN
from ..ksef_core.errors import KsefError

_logger = logging.getLogger(__name__)

#: an online session unused this long is closed (KSeF then issues its collective UPO)
IDLE_CLOSE = datetime.timedelta(minutes=15)
#: after closing, the first status check; then every STATUS_RETRY until KSeF has finished
FIRST_STATUS = datetime.timedelta(seconds=10)
STATUS_RETRY = datetime.timedelta(minutes=2)
#: KSeF unreachable, or the UPO download failed: try again after this long
RETRY_DELAY = datetime.timedelta(minutes=5)
#: a session whose status or UPO is still missing this long after closing is given up (logged)
GIVE_UP = datetime.timedelta(days=3)


class L10nPlKsefSession(models.Model):
    _inherit = "l10n_pl_ksef.session"

    closed_date = fields.Datetime(readonly=True)
    next_try = fields.Datetime(
        readonly=True,
        index=True,
        help="When Odoo next closes this session or asks KSeF for its final status and collective UPO.",
    )

    def _l10n_pl_ksef_used(self, now):
        """This online session carries invoices at ``now``: close it after IDLE_CLOSE without use, or
        before it stops being usable."""
        self.ensure_one()
        close_at = now + IDLE_CLOSE
        if self.valid_until:
            close_at = min(close_at, self.valid_until - SESSION_MARGIN)
        self.next_try = max(close_at, now)

    def _l10n_pl_ksef_mark_closed(self, now):
        """KSeF takes no more invoices into these sessions: forget their keys, ask for their status soon."""
        self.write({"state": "closed", "closed_date": now, "secret": False, "next_try": now + FIRST_STATUS})

    @api.model
    def _l10n_pl_ksef_due(self, company, now=None):
        """Sessions of ``company`` with a step due (close, final status, collective UPO)."""
        return self.sudo().search(
            [
                ("company_id", "=", company.id),
                ("next_try", "!=", False),
                ("next_try", "<=", now or fields.Datetime.now()),
                # a session of another KSeF (environment, address, NIP) is never closed or polled elsewhere
                ("endpoint", "in", [company._l10n_pl_ksef_endpoint(), False]),
            ],
            order="id",
        )

    def _l10n_pl_ksef_wrap_up(self, client):
        """Do the due step of each of these sessions with ``client`` (their credential's client).

        Errors are data: KSeF unreachable postpones the rest; a 429 postpones them to its
        Retry-After and is raised for the run to record.
        """
        now = fields.Datetime.now()
        for session in self:
            if self.env["l10n_pl_ksef.document"]._l10n_pl_ksef_time_up():
                return  # the run's time is up: the others stay due for the next run
            if not session.next_try or session.next_try > now:
                continue  # used again since it was found due (reused online session)
            if session.environment != client.environment.name:
                # sent to another environment, whose credentials are no longer configured
                session.write({"next_try": False})
                continue
            try:
                if session.kind == "online" and session.state in ("opening", "open"):
                    client.online.close_reference(session.reference)
                    session._l10n_pl_ksef_mark_closed(now)
                    self.env["l10n_pl_ksef.document"]._l10n_pl_ksef_commit()
                    session._l10n_pl_ksef_session_finished(client)  # often final at once; else next_try
                elif not session._l10n_pl_ksef_session_finished(client):
                    session._l10n_pl_ksef_status_later(now)
            except KsefRateLimited as exc:
                wait = datetime.timedelta(seconds=int(float(exc.retry_after or 1)) + 1)
                self.filtered(lambda s: s.next_try and s.next_try <= now).write({"next_try": now + wait})
                raise
            except KsefApiError as exc:
                if exc.http_status and exc.http_status < 500 and 21173 in exc.exception_codes:
                    # KSeF does not know the session (another environment was reset): nothing to wait for
                    session.write({"state": "failed", "status_message": exc.message_en, "next_try": False})
                    continue
                self.filtered(lambda s: s.next_try and s.next_try <= now).write({"next_try": now + RETRY_DELAY})
                return
            except KsefError:
                self.filtered(lambda s: s.next_try and s.next_try <= now).write({"next_try": now + RETRY_DELAY})
                return
            self.env["l10n_pl_ksef.document"]._l10n_pl_ksef_commit()

    def _l10n_pl_ksef_status_later(self, now):
        self.ensure_one()
        since = self.closed_date or self.create_date
        if since and now - since > GIVE_UP:
            _logger.warning("KSeF: session %s has no final status after %s; no longer asked", self.reference, GIVE_UP)
            self.write({"next_try": False})
        else:
            self.write({"next_try": now + STATUS_RETRY})

    def _l10n_pl_ksef_session_finished(self, client):
        """Ask KSeF whether this session has been processed; keep its status and collective UPO.

        Returns False while KSeF is still processing it.
        """
        self.ensure_one()
        data = client.online.status(self.reference) or {}
        status = status_codes.describe_status("session", data.get("status"))
        if not status.final:
            return False
        now = fields.Datetime.now()
        values = {
            "state": "processed" if status.ok else "failed",
            "status_code": status.code,
            "status_message": status.message("en"),
            "next_try": False,
        }
        pages = (data.get("upo") or {}).get("pages") or []
        if pages and not self.upo_attachment_id:
            try:
                content = b"".join(client.online.upo_from_url(page["downloadUrl"]) for page in pages)
            except (KsefError, KeyError):  # KeyError: a page without its address
                _logger.info("KSeF: the collective UPO of session %s is not available yet", self.reference)
                since = self.closed_date or self.create_date
                if not since or now - since <= GIVE_UP:
                    values["next_try"] = now + RETRY_DELAY
            else:
                values["upo_attachment_id"] = self._l10n_pl_ksef_upo_attachment(content).id
        self.write(values)
        return True

    def _l10n_pl_ksef_upo_attachment(self, content):
        return (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": "UPO-%s.xml" % self.reference,
                    "raw": content,
                    "mimetype": "application/xml",
                    "res_model": self._name,
                    "res_id": self.id,
                    "company_id": self.company_id.id,
                }
            )
        )
