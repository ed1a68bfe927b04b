"""One company's run of receiving from KSeF: where it stands in KSeF, per subject type, and the loop.

The position is the ``sync_state`` of the company's ``l10n_pl_ksef.receive.state``: the
``SyncState`` of the invoices issued to the company (Subject2) at the top (the layout of earlier
versions), and under ``subjects`` those of the other subject types read (Subject3, the invoices
naming the company as a third party, when the company asks for them; kept when it stops asking).

Each ``SyncState`` may remember the export under way (reference, filters, AES key and IV), so that
the next run resumes it instead of starting a new one (KSeF allows 20 an hour).  The key and IV
decrypt that export's parts, whose URLs need no login: they are stored encrypted with the addon's
key (like the credentials), because the position is readable by accounting managers.  A key that
cannot be decrypted any more (the addon's key was changed) only costs a new export.

The position is written in the transaction of the bills it accounts for: a rollback undoes both.
An export started by a run that then fails with an unexpected error (rolled back) is remembered
again after the rollback.
"""

import datetime
import json
import logging
import time

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..ksef_core.client import KsefRateLimited, SyncState
from ..ksef_core.client.sync import EXPORT_KEYS
from ..ksef_core.client.tokens import format_datetime
from ..ksef_core.errors import KsefError
from . import res_company_ksef_receive as receive
from .account_move_ksef_import_build import BillCache

_logger = logging.getLogger(__name__)

BUYER, THIRD_PARTY = "Subject2", "Subject3"
#: invoices handed to ``_l10n_pl_ksef_receive_items`` at a time
RECEIVE_BATCH = 50


class ResCompany(models.Model):
    _inherit = "res.company"

    def _l10n_pl_ksef_receive_subjects(self):
        """The KSeF subject types whose invoices this company imports, in the order they are read."""
        self.ensure_one()
        return [BUYER] + ([THIRD_PARTY] if self.l10n_pl_ksef_receive_subject3 else [])

    # ------------------------------------------------------------------ the stored position

    @api.model
    def _l10n_pl_ksef_seal_export(self, export, sealed):
        """``export`` (``SyncState.export``) as stored: its key and IV encrypted (``sealed``: cache by reference)."""
        if not export:
            return None
        reference = export.get("reference")
        if reference not in sealed:
            secret = json.dumps({"key": export.get("key"), "iv": export.get("iv")})
            sealed[reference] = self.env["l10n_pl_ksef.secret.mixin"]._l10n_pl_ksef_encrypt(secret)
        return {"reference": reference, "filters": export.get("filters"), "sealed": sealed[reference]}

    @api.model
    def _l10n_pl_ksef_unseal_export(self, stored):
        """The ``SyncState.export`` of a stored export, or None when its key cannot be read any more."""
        if not isinstance(stored, dict) or not stored.get("sealed"):
            return None
        secret = self.env["l10n_pl_ksef.secret.mixin"]._l10n_pl_ksef_decrypt_json(stored["sealed"])
        if not isinstance(secret, dict):
            _logger.info("KSeF: the key of a remembered export cannot be read; a new export is started")
            return None
        export = {"reference": stored.get("reference"), "filters": stored.get("filters")}
        export.update(key=secret.get("key"), iv=secret.get("iv"))
        return export if all(export.get(name) for name in EXPORT_KEYS) else None

    def _l10n_pl_ksef_load_sync_states(self, stored):
        """``{subject type: SyncState}`` of a stored position (empty when there is none)."""
        states = {}
        if not isinstance(stored, dict):
            return states
        entries = [dict(stored, subject_type=stored.get("subject_type") or BUYER)]
        entries += [dict(value, subject_type=key) for key, value in (stored.get("subjects") or {}).items()]
        for entry in entries:
            if not entry.get("date_from"):
                continue
            entry["export"] = self._l10n_pl_ksef_unseal_export(entry.get("export"))
            states[entry["subject_type"]] = SyncState.from_dict(entry)
        return states

    def _l10n_pl_ksef_dump_sync_states(self, states, sealed):
        """The position to store for ``states`` (``{subject type: SyncState}``)."""
        dumped = {}
        for subject, sync_state in states.items():
            data = sync_state.to_dict()
            data["export"] = self._l10n_pl_ksef_seal_export(sync_state.export, sealed)
            dumped[subject] = data
        stored = dumped.pop(BUYER, {})
        if dumped:
            stored["subjects"] = dumped
        return stored or False

    def _l10n_pl_ksef_remember_exports(self, exports):
        """After a rollback: remember again the exports ``{subject: stored export}`` that the run started."""
        if not exports:
            return
        state = self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(self)
        stored = json.loads(json.dumps(state.sync_state)) if isinstance(state.sync_state, dict) else {}
        for subject, export in exports.items():
            entry = stored if subject == BUYER else stored.setdefault("subjects", {}).setdefault(subject, {})
            if not entry.get("date_from"):  # the company's first run: the position starts where the export does
                entry.update(subject_type=subject, date_from=export["filters"]["dateRange"]["from"], seen={})
            if not entry.get("export"):
                entry["export"] = export  # the sync resumes it only if it starts at or before this position
        state.sync_state = stored

    # ------------------------------------------------------------------ the run

    def _l10n_pl_ksef_receive_start(self):
        """ISO date-time of the first window: the KSeF start date, else 30 days back (never in the future)."""
        now = datetime.datetime.now(datetime.timezone.utc)
        start = now - datetime.timedelta(days=receive.DEFAULT_DAYS_BACK)
        if self.l10n_pl_ksef_start_date:
            midnight = datetime.datetime.combine(self.l10n_pl_ksef_start_date, datetime.time.min)
            start = min(now, receive.WARSAW.localize(midnight).astimezone(datetime.timezone.utc))
        return format_datetime(start)

    def _l10n_pl_ksef_receive_invoices(self, interactive=False, exports=None):
        """Download new invoices of this company (Subject2, and Subject3 when asked) and make draft vendor bills.

        The caller holds the company's import lock.  Returns a dict: ``created`` / ``linked`` (bill
        ids), ``duplicates`` (count), ``failed`` (``{KSeF number: reason}`` of this run), ``error``
        (bilingual KSeF or configuration message) and ``error_code``, ``retry_after`` (429),
        ``more`` (the limit stopped the sync), ``retry_error`` (what stopped the retries).
        ``exports`` (a dict), when given, receives ``{subject type: stored export}`` of the exports
        this run remembered, for the caller to remember them again if it rolls the run back.
        """
        self.ensure_one()
        company = self.sudo()
        result = self._l10n_pl_ksef_empty_result()
        state = self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(company)
        endpoint = company._l10n_pl_ksef_receive_endpoint()
        if state.endpoint != endpoint:
            if state.endpoint:  # written by a run that overlapped a change of environment or NIP
                state._l10n_pl_ksef_switch(endpoint)
            else:
                state.endpoint = endpoint
        try:
            client = company._l10n_pl_ksef_receive_client(interactive=interactive)
        except UserError as exc:
            result.update(error=exc.args[0], error_code="configuration")
            return result
        states = company._l10n_pl_ksef_load_sync_states(state.sync_state)
        sealed = {}

        def persist(_current=None):
            stored = company._l10n_pl_ksef_dump_sync_states(states, sealed)
            state.sync_state = stored
            if exports is not None and stored:
                for subject, entry in [(BUYER, stored), *(stored.get("subjects") or {}).items()]:
                    if entry.get("export"):
                        exports[subject] = entry["export"]

        pending = []  # handed out by the sync (counted as delivered), not made into bills yet
        cache = BillCache(self.env, company)  # suppliers, taxes, products: read once per run

        def flush():
            if pending:
                batch = list(pending)
                del pending[:]
                company._l10n_pl_ksef_receive_items(batch, result, cache=cache)

        started = time.monotonic()
        with client:
            try:
                count, time_up = 0, False
                for index, subject in enumerate(company._l10n_pl_ksef_receive_subjects()):
                    if index and company._l10n_pl_ksef_receive_time_up(started):  # the next call reads it
                        result["more"] = True
                        break
                    sync_state = states.setdefault(subject, SyncState(subject, company._l10n_pl_ksef_receive_start()))
                    items = client.sync(sync_state, mode="export", on_progress=persist).run()
                    try:
                        for item in items:
                            count += 1
                            pending.append(item)
                            if len(pending) >= RECEIVE_BATCH:
                                flush()
                                time_up = company._l10n_pl_ksef_receive_time_up(started)
                            if count >= receive.RECEIVE_LIMIT or time_up:  # the next call goes on
                                result["more"] = True
                                break
                    finally:
                        items.close()
                    flush()
                    if result["more"]:
                        break
            except KsefError as exc:
                # KSeF stopped the sync (deadline, 429, down...): what it handed out before still becomes bills
                flush()
                result.update(error=exc.bilingual(), error_code=exc.code)
                if isinstance(exc, KsefRateLimited):
                    result.update(error_code="rate_limited", retry_after=exc.details.get("retry_after"))
            finally:
                persist()
            if not result["error"] and not result["more"]:  # a run whose time is up retries in a later one
                failures = self.env["l10n_pl_ksef.receive.failure"]._l10n_pl_ksef_due(
                    company, fields.Datetime.now(), receive.RETRY_LIMIT, ignore_backoff=interactive
                )
                company._l10n_pl_ksef_retry_failed(client, result, failures)
        return result

    def _l10n_pl_ksef_receive_items(self, items, result, cache=None):
        """Invoices handed out by the sync (``SyncItem``): bills, or the waiting list with their reason.

        The sync counts them as delivered: each must end as a bill or in the waiting list in this
        transaction (the position is stored with them).
        """
        ready = []
        for item in items:
            if item.problem is not None:  # too large, or missing from KSeF's package: KSeF's reason
                self._l10n_pl_ksef_record_failure(item.ksef_number, item.problem.bilingual(), result)
                _logger.warning(
                    "KSeF: invoice %s of company %s kept waiting (%s)", item.ksef_number, self.id, item.problem.code
                )
                continue
            ready.append((item.ksef_number, item.xml))
        if ready:
            self._l10n_pl_ksef_receive_batch(ready, result, cache=cache)
