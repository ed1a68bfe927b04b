"""Where receiving supplier invoices from KSeF stands for one company, and when it is due again.

One record per company, written by the company's import runs only.  Its position belongs to the KSeF
the company reads now (``endpoint``: environment, address, NIP); those of the others read before are
kept in ``positions``, so that switching back resumes where it stopped.  It is kept off the
``res.company`` row on purpose: a run lasts up to a minute in one transaction, and the company row
is needed meanwhile by Settings and by every user's KSeF session tokens.

When a company is due (``next_attempt``; empty = at once):

* after a complete run: ``last_run`` + the company's interval (minus a few minutes of slack, the
  cron itself runs hourly); changing the interval moves it at once;
* more invoices are waiting than one run imports: at once (the cron continues in its next call);
* KSeF answered 429: when its ``Retry-After`` says;
* any other error (revoked token, KSeF down, a bug): after a back-off of 30 minutes doubling with
  every consecutive error, at most the interval and never more than 4 hours.
"""

import datetime

from odoo import api, fields, models

#: a company is due this much before its interval has passed (the hourly cron drifts a little)
SLACK = datetime.timedelta(minutes=5)
#: first wait after an error; doubles with every consecutive error ...
ERROR_BACKOFF = datetime.timedelta(minutes=30)
#: ... up to the company's interval, and never more than this
MAX_ERROR_BACKOFF = datetime.timedelta(hours=4)
#: wait after a 429 that named no Retry-After
DEFAULT_RETRY_AFTER = 60

OUTCOMES = [
    ("done", "All new invoices imported"),
    ("more", "More invoices waiting"),
    ("rate_limited", "KSeF asked to wait"),
    ("error", "Error"),
]


def doubling_wait(first, failures, cap):
    """``first`` after one failure, twice as long after each further one, never more than ``cap``."""
    return min(first * 2 ** min(max(failures - 1, 0), 16), cap)


def error_backoff(errors, interval_hours):
    """How long to wait after ``errors`` consecutive failed runs (``errors`` >= 1)."""
    cap = max(ERROR_BACKOFF, min(datetime.timedelta(hours=interval_hours), MAX_ERROR_BACKOFF))
    return doubling_wait(ERROR_BACKOFF, errors, cap)


def next_attempt_at(outcome, last_run, interval_hours, errors=0, retry_after=None):
    """When a company whose run ended at ``last_run`` with ``outcome`` is due again."""
    if outcome == "more":
        return last_run
    if outcome == "rate_limited":
        return last_run + datetime.timedelta(seconds=max(int(retry_after or DEFAULT_RETRY_AFTER), 1))
    if outcome == "error":
        return last_run + error_backoff(errors, interval_hours)
    return last_run + datetime.timedelta(hours=interval_hours) - SLACK


class L10nPlKsefReceiveState(models.Model):
    _name = "l10n_pl_ksef.receive.state"
    _description = "KSeF supplier invoice import of a company"
    _rec_name = "company_id"
    _order = "company_id"

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True, readonly=True)
    endpoint = fields.Char(
        string="KSeF the position belongs to",
        readonly=True,
        help="Environment, address and NIP the position was read from: another one starts from scratch.",
    )
    sync_state = fields.Json(string="KSeF position", readonly=True, help="Where the next download starts.")
    positions = fields.Json(
        string="Positions in other KSeF",
        readonly=True,
        help="The position reached in each other environment, address and NIP read before: switching back resumes "
        "from there.",
    )
    last_run = fields.Datetime(string="Last check", readonly=True)
    last_result = fields.Text(string="Last result", readonly=True)
    outcome = fields.Selection(OUTCOMES, string="Last outcome", readonly=True)
    consecutive_errors = fields.Integer(string="Failed checks in a row", readonly=True)
    next_attempt = fields.Datetime(string="Next check", readonly=True, help="Empty: at the next cron run.")
    #: a cron run started at this moment and has not recorded its end (yet, or ever: a killed worker)
    run_started = fields.Datetime(string="Check started", readonly=True)

    _company_uniq = models.Constraint("UNIQUE(company_id)", "A company has one KSeF import state.")

    @api.model
    def _l10n_pl_ksef_for(self, company, create=True):
        """The state of ``company`` (created when missing and ``create``)."""
        state = self.sudo().search([("company_id", "=", company.id)], limit=1)
        if not state and create:
            state = self.sudo().create({"company_id": company.id})
        return state

    def _l10n_pl_ksef_is_due(self, now):
        self.ensure_one()
        return not self.next_attempt or self.next_attempt <= now

    def _l10n_pl_ksef_interval(self):
        return int(self.company_id.l10n_pl_ksef_receive_interval or 1)

    def _l10n_pl_ksef_before_run(self, now):
        """A cron run starts: count it as failed and back off until it records its end. A worker killed
        in the middle (out of memory on one invoice, a restart) thus never puts the company first
        again at once, and the waits double if it keeps happening. The caller commits this."""
        self.ensure_one()
        errors = self.consecutive_errors + 1
        self.write(
            {
                "run_started": now,
                "consecutive_errors": errors,
                "next_attempt": now + error_backoff(errors, self._l10n_pl_ksef_interval()),
            }
        )

    def _l10n_pl_ksef_record_run(self, result, now):
        """Store the outcome of a run that ended at ``now`` and when the company is due again."""
        self.ensure_one()
        if result["error"]:
            outcome = "rate_limited" if result["error_code"] == "rate_limited" else "error"
        else:
            outcome = "more" if result["more"] else "done"
        before = self.consecutive_errors - 1 if self.run_started else self.consecutive_errors
        errors = before + 1 if outcome == "error" else 0
        self.write(
            {
                "run_started": False,
                "last_run": now,
                "last_result": result["text"],
                "outcome": outcome,
                "consecutive_errors": errors,
                "next_attempt": next_attempt_at(
                    outcome, now, self._l10n_pl_ksef_interval(), errors, result.get("retry_after")
                ),
            }
        )

    def _l10n_pl_ksef_reschedule(self):
        """The interval changed: a check planned from it moves (429 and waiting backlogs keep theirs)."""
        for state in self.filtered(lambda s: s.last_run and s.outcome in ("done", "error")):
            state.next_attempt = next_attempt_at(
                state.outcome, state.last_run, state._l10n_pl_ksef_interval(), state.consecutive_errors
            )

    def _l10n_pl_ksef_switch(self, endpoint, note=None):
        """The company reads another KSeF (``endpoint``): the position of the one left is put aside, with its
        invoices waiting (hidden, never deleted); that of ``endpoint`` comes back if it was read before, else
        the next run starts from the KSeF start date."""
        for state in self:
            positions = dict(state.positions or {})
            if state.endpoint and state.endpoint != endpoint:
                positions[state.endpoint] = state.sync_state or False
                # waiting entries recorded before they carried their KSeF belong to the one left
                self.env["l10n_pl_ksef.receive.failure"].sudo().with_context(active_test=False).search(
                    [("company_id", "=", state.company_id.id), ("endpoint", "=", False)]
                ).write({"endpoint": state.endpoint})
            elif state.endpoint == endpoint:
                continue
            values = {
                "endpoint": endpoint,
                "sync_state": positions.pop(endpoint, False) if endpoint else False,
                "positions": positions,
                "next_attempt": False,
                "consecutive_errors": 0,
            }
            if note:
                values.update(last_result=note, outcome=False, last_run=False)
            state.write(values)
