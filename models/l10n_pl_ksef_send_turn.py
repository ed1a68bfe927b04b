"""Whose turn it is to send: the sending cron's fair order and each company's back-off.

A database of an accounting office holds hundreds of companies, served by a few cron workers. The cron
takes the companies with something due least recently served first (``last_served``, stamped when a run
starts on the company, so a run that crashes still moves it to the back), and gives each a bounded share
of the run (``SHARE_SECONDS``): what is left is due again and waits for the next run, after every other
company with work has had its turn. No company is ever more than one cycle behind the others.

A company whose KSeF fails (server errors, a revoked token, an expired certificate, KSeF unreachable)
backs off as a whole (``not_before``): 30 seconds after a failed run, twice as long after each further
one, at most 30 minutes; a 429 waits for its ``Retry-After``. Meanwhile the cron does not even look at
it, and when its turn comes again it is a probe: short HTTP timeouts, one retry and a share of
``PROBE_SECONDS`` (``res_company_ksef_client.py``), so it never costs the other companies their run.
New credentials end the back-off at once.

One row per company, written only by the run holding the company's sending lock (one SQL upsert each
time), never the ``res.company`` row (Settings and the users' KSeF sessions need it meanwhile).
"""

import datetime
import logging

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

#: a company's share of one cron run; the rest of its queue waits for the next run
SHARE_SECONDS = 10.0
#: the share of a company in back-off (its KSeF failed last time): a probe
PROBE_SECONDS = 8.0
#: first back-off after a failed run; doubles with every further one ...
FAILURE_BACKOFF = datetime.timedelta(seconds=30)
#: ... up to this
MAX_FAILURE_BACKOFF = datetime.timedelta(minutes=30)
#: context key: the ``time.monotonic()`` moment the company's share of the run ends (no further KSeF call)
SHARE_KEY = "l10n_pl_ksef_share_deadline"
#: context key: this company's run is a probe after failures (short timeouts, few retries)
PROBE_KEY = "l10n_pl_ksef_probe"
#: a probe's HTTP timeout (seconds, at most) and attempts per request
PROBE_TIMEOUT = 5.0
PROBE_ATTEMPTS = 2
#: error codes of a run that are not the company's KSeF failing (nothing to back off from)
NOT_FAILURES = (None, "rate_limited", "busy")


def precise_now():
    """Now (naive UTC) to the microsecond: the turns of two lanes in the same second are told apart."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def failure_backoff(failures):
    """How long a company waits after ``failures`` (>= 1) failed runs in a row."""
    return min(FAILURE_BACKOFF * 2 ** min(max(failures - 1, 0), 16), MAX_FAILURE_BACKOFF)


class L10nPlKsefSendTurn(models.Model):
    _name = "l10n_pl_ksef.send.turn"
    _description = "KSeF sending turn of a company"
    _rec_name = "company_id"
    _order = "last_served, company_id"

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True, readonly=True)
    last_served = fields.Datetime(string="Last served by the sending cron", readonly=True)
    failures = fields.Integer(string="Failed sending runs in a row", readonly=True)
    not_before = fields.Datetime(
        string="Sending paused until",
        readonly=True,
        help="KSeF failed for this company (or asked to wait): the sending cron leaves it alone until then.",
    )

    _company_uniq = models.Constraint("UNIQUE(company_id)", "A company has one KSeF sending turn.")

    @api.model
    def _l10n_pl_ksef_failures_of(self, company):
        """Failed runs in a row of ``company`` (0 when it never failed or was never served)."""
        self.env.cr.execute(SQL("SELECT failures FROM l10n_pl_ksef_send_turn WHERE company_id = %s", company.id))
        row = self.env.cr.fetchone()
        return row[0] if row else 0

    @api.model
    def _l10n_pl_ksef_served_since(self, company, moment):
        """Whether a turn of ``company`` started after ``moment`` (another cron lane took it)."""
        self.env.cr.execute(
            SQL(
                "SELECT 1 FROM l10n_pl_ksef_send_turn WHERE company_id = %s AND last_served > %s",
                company.id,
                moment,
            )
        )
        return bool(self.env.cr.fetchone())

    @api.model
    def _l10n_pl_ksef_serve(self, company, now):
        """``company``'s turn starts now (the caller holds its sending lock and commits)."""
        self.env.cr.execute(
            SQL(
                """INSERT INTO l10n_pl_ksef_send_turn
                          (company_id, last_served, failures, create_uid, create_date, write_uid, write_date)
                   VALUES (%(company)s, %(now)s, 0, %(uid)s, %(now)s, %(uid)s, %(now)s)
                   ON CONFLICT (company_id) DO UPDATE SET last_served = EXCLUDED.last_served,
                                                          write_date = EXCLUDED.write_date""",
                company=company.id,
                now=now,
                uid=self.env.uid,
            )
        )
        self.invalidate_model(["last_served"])

    @api.model
    def _l10n_pl_ksef_served(self, company, result, now):
        """Record how ``company``'s turn ended (``result`` of the run): a failure backs it off, a 429 waits
        for its Retry-After, anything else clears the back-off."""
        code = result.get("error_code")
        if result.get("busy"):
            return
        if code not in NOT_FAILURES:
            failures = self._l10n_pl_ksef_failures_of(company) + 1
            values = SQL("failures = %s, not_before = %s", failures, now + failure_backoff(failures))
            _logger.info(
                "KSeF: sending for company %s failed %d time(s) in a row (%s); paused for %s",
                company.id,
                failures,
                code,
                failure_backoff(failures),
            )
        elif code == "rate_limited" and result.get("retry_at"):
            values = SQL("not_before = %s", result["retry_at"])
        else:
            values = SQL("failures = 0, not_before = NULL")
        self.env.cr.execute(
            SQL(
                "UPDATE l10n_pl_ksef_send_turn SET %s, write_date = %s WHERE company_id = %s",
                values,
                now,
                company.id,
            )
        )
        self.invalidate_model(["failures", "not_before"])

    @api.model
    def _l10n_pl_ksef_resume(self, companies):
        """New credentials: the companies' back-off after failures ends now (a 429's wait stays)."""
        self.env.cr.execute(
            SQL(
                "UPDATE l10n_pl_ksef_send_turn SET failures = 0, not_before = NULL"
                " WHERE company_id IN %s AND failures > 0",
                tuple(companies.ids) or (0,),
            )
        )
        self.invalidate_model(["failures", "not_before"])
        return self.env.cr.rowcount
