"""NBP average rates (table A) for the VAT in PLN of invoices in another currency (art. 31a of the VAT act).

Rates are fetched AHEAD of time by a scheduled action and kept here (a past rate never changes):
confirming an invoice only reads this table, it never waits on NBP.  The scheduled action runs hourly
and is triggered whenever a draft customer invoice in another currency gets its date or currency
(``account_move_fa3_rate.py``) and when a Confirm misses a rate.
"""

import datetime
import logging

from psycopg2 import IntegrityError

from odoo import SUPERUSER_ID, api, fields, models
from odoo.tools.translate import LazyTranslate

from ..ksef_core.calendar_pl import last_business_day, warsaw_now
from ..ksef_core.errors import KsefError
from ..ksef_core.nbp import DEFAULT_NBP_URL, MAX_SPAN_DAYS, NbpClient
from .fa3_problems import problem
from .l10n_pl_ksef_budget import cron_budget, deadline_in, seconds_to

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

NBP_URL_PARAM = "l10n_pl_ksef.nbp_url"
#: the currencies NBP's table A does not quote (comma-separated codes), learnt by the scheduled action
UNQUOTED_PARAM = "l10n_pl_ksef.nbp_unquoted_currencies"
#: the code of the problem of a rate not stored yet (the fetch is triggered once for all of them)
NOT_FETCHED = "nbp_rate_not_fetched"
FETCH_CRON_XMLID = "l10n_pl_ksef.ir_cron_l10n_pl_ksef_nbp_rates"
#: the scheduled action also keeps the rates of the last days of the currencies in use ready
RECENT_DAYS = 7
#: ... of the currencies of the customer invoices of this many last days
RECENT_USE_DAYS = 31
FETCH_TIMEOUT = 10
#: NBP publishes table A on business days at about 12:00 Warsaw time
NBP_PUBLISHED_BY = datetime.time(12, 15)


class L10nPlKsefNbpRate(models.Model):
    _name = "l10n_pl_ksef.nbp.rate"
    _description = "NBP exchange rate (table A) for KSeF invoices"
    _order = "day_before desc, currency_code"

    currency_code = fields.Char(required=True, index=True)
    day_before = fields.Date(
        string="Day before the tax point",
        required=True,
        index=True,
        help="The rate applies to tax points on the day after this one.",
    )
    effective_date = fields.Date(string="Rate of", required=True)
    rate_text = fields.Char(string="PLN per unit (as published)", required=True)
    table_number = fields.Char(string="NBP table")

    _currency_day_uniq = models.Constraint("UNIQUE(currency_code, day_before)", "One NBP rate per currency and day.")

    # ------------------------------------------------------------------ reading (no network)

    @api.model
    def _l10n_pl_ksef_stored(self, currency_code, rate_day):
        """The stored rate for the tax point (or issue date) ``rate_day``, or an empty recordset. No network."""
        return self.sudo().search(
            [("currency_code", "=", currency_code), ("day_before", "=", rate_day - datetime.timedelta(days=1))],
            limit=1,
        )

    @api.model
    def _l10n_pl_ksef_rate(self, currency_code, rate_day):
        """``(rate text, effective date, table number)`` of the stored NBP rate for ``rate_day``.

        Never asks NBP: a rate not fetched yet is a :class:`KsefError` (bilingual, code ``NOT_FETCHED``)
        saying so; whoever builds the documents triggers the scheduled action once for all of them
        (``account_move_fa3.py``).  A currency NBP's table A does not quote says so (code
        ``nbp_currency_not_quoted``): its rate is typed on the invoice.
        """
        found = self._l10n_pl_ksef_stored(currency_code, rate_day)
        if found:
            return found.rate_text, found.effective_date, found.table_number
        if currency_code in self._l10n_pl_ksef_unquoted():
            raise KsefError(*self._l10n_pl_ksef_unquoted_texts(currency_code, rate_day), code="nbp_currency_not_quoted")
        raise KsefError(*self._l10n_pl_ksef_missing_texts(currency_code, rate_day), code=NOT_FETCHED)

    @api.model
    def _l10n_pl_ksef_unquoted(self):
        """The codes of the currencies NBP's table A does not quote (as the last fetch found)."""
        text = self.env["ir.config_parameter"].sudo().get_param(UNQUOTED_PARAM) or ""
        return {code.strip() for code in text.split(",") if code.strip()}

    @api.model
    def _l10n_pl_ksef_unquoted_texts(self, currency_code, rate_day):
        """English and Polish text of a currency NBP's table A does not quote: its rate is typed."""
        found = problem(
            _lt(
                "NBP's table A has no rate for %(currency)s: Odoo cannot fetch one for it, today or later. Enter the "
                "exchange rate on the invoice yourself: the NBP average rate of %(currency)s of the last business "
                "day before %(day)s (NBP publishes rarer currencies in its table B, on Wednesdays: take the last one "
                "published before that day).",
                currency=currency_code,
                day=rate_day.isoformat(),
            )
        )
        return found.message_en, found.message_pl

    @api.model
    def _l10n_pl_ksef_missing_texts(self, currency_code, rate_day):
        """English and Polish text of a missing rate: which day, what Odoo does, what the user can do."""
        needed = last_business_day(rate_day - datetime.timedelta(days=1))
        now = warsaw_now()
        if needed > now.date() or (needed == now.date() and now.time() < NBP_PUBLISHED_BY):
            text = _lt(
                "The NBP rate of %(day)s for %(currency)s is not published yet (NBP publishes table A on business "
                "days at about 12:00 Warsaw time); this invoice needs it. Odoo fetches it as soon as it is out: "
                "confirm the invoice then, or enter the exchange rate on the invoice yourself.",
                day=needed.isoformat(),
                currency=currency_code,
            )
        else:
            text = _lt(
                "The NBP rate of %(day)s for %(currency)s is not fetched yet: Odoo has started fetching it, try "
                "again in a minute. If NBP cannot be reached, enter the exchange rate on the invoice yourself (NBP "
                "table A average rate of that day or, if there was no table, of the last business day before).",
                day=needed.isoformat(),
                currency=currency_code,
            )
        found = problem(text)
        return found.message_en, found.message_pl

    # ------------------------------------------------------------------ fetching (scheduled action)

    @api.model
    def _l10n_pl_ksef_trigger_fetch(self):
        """Run the scheduled action that fetches the rates soon, even if the current transaction is
        rolled back (a refused Confirm): the trigger is written on a cursor of its own."""
        cron = self.env.ref(FETCH_CRON_XMLID, raise_if_not_found=False)
        if not cron:
            return
        try:
            with self.env.registry.cursor() as cr:
                cron.with_env(api.Environment(cr, SUPERUSER_ID, {}))._trigger()
        except Exception:  # never let a trigger break what asked for it
            _logger.warning("Could not trigger the NBP rates fetch", exc_info=True)

    @api.model
    def _cron_l10n_pl_ksef_nbp_rates(self):
        """Fetch the NBP rates the customer invoices in another currency of KSeF companies need.

        One request per currency (a range): the rates of the days its draft, held and recent invoices
        need, and of the last days (new invoices).  NBP being down is logged; the next run retries.
        """
        needs = self._l10n_pl_ksef_needed_days()
        url = self.env["ir.config_parameter"].sudo().get_param(NBP_URL_PARAM) or DEFAULT_NBP_URL
        client = NbpClient(base_url=url, timeout=FETCH_TIMEOUT)
        unquoted = self._l10n_pl_ksef_unquoted()
        # the job's time comes from the cron worker's real-time limit: what is left goes to its next call
        deadline = deadline_in(cron_budget(self.env))
        for currency_code, days in sorted(needs.items()):
            if seconds_to(deadline) < FETCH_TIMEOUT:
                self.env.ref(FETCH_CRON_XMLID).sudo()._trigger()
                break
            quoted = self._l10n_pl_ksef_fetch(client, currency_code, days)
            if quoted is True:
                unquoted.discard(currency_code)
            elif quoted is False:
                unquoted.add(currency_code)
        text = ",".join(sorted(unquoted))
        if text != ",".join(sorted(self._l10n_pl_ksef_unquoted())):
            self.env["ir.config_parameter"].sudo().set_param(UNQUOTED_PARAM, text)

    @api.model
    def _l10n_pl_ksef_needed_days(self):
        """``{currency code: {rate day}}`` of the rates not stored yet that invoices need or soon will."""
        today = warsaw_now().date()
        Move = self.env["account.move"].sudo()
        moves = Move.search(
            [
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("company_id.l10n_pl_ksef_active", "=", True),
                ("company_id.currency_id.name", "=", "PLN"),
                ("currency_id.name", "!=", "PLN"),
                "|",
                ("state", "=", "draft"),
                ("l10n_pl_ksef_hold", "!=", False),
            ]
        )
        needs = {}
        for move in moves:
            day = move._l10n_pl_ksef_rate_day()
            if day:
                needs.setdefault(move.currency_id.name, set()).add(day)
        # invoices created and confirmed at once (Point of Sale, e-commerce) never wait as drafts: keep the
        # last days' rates of the currencies invoiced lately ready for them
        recent = Move._read_group(
            [
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("company_id.l10n_pl_ksef_active", "=", True),
                ("company_id.currency_id.name", "=", "PLN"),
                ("currency_id.name", "!=", "PLN"),
                ("invoice_date", ">=", today - datetime.timedelta(days=RECENT_USE_DAYS)),
            ],
            ["currency_id"],
        )
        for (currency,) in recent:
            needs.setdefault(currency.name, set())
        for currency_code in list(needs):
            needs[currency_code] |= {today - datetime.timedelta(days=n) for n in range(RECENT_DAYS)}
            needs[currency_code].add(today + datetime.timedelta(days=1))
        first = min((min(days) for days in needs.values()), default=today)
        stored = self.sudo().search_fetch(
            [("currency_code", "in", list(needs)), ("day_before", ">=", first - datetime.timedelta(days=1))],
            ["currency_code", "day_before"],
        )
        have = {(rate.currency_code, rate.day_before + datetime.timedelta(days=1)) for rate in stored}
        return {
            code: {day for day in days if (code, day) not in have}
            for code, days in needs.items()
            if any((code, day) not in have for day in days)
        }

    @api.model
    def _l10n_pl_ksef_fetch(self, client, currency_code, days):
        """Ask NBP for the rates of ``days`` of one currency (one request per 77 days) and store them.

        A request NBP does not answer is logged and the next one is still made.  Returns whether NBP's
        table A quotes the currency: True (a rate came), False (NBP answered, but no rate for any day whose
        table is surely out: the currency is not in table A), None (cannot tell).
        """
        days = sorted(days)
        today = warsaw_now().date()
        quoted = None
        while days:
            chunk = [day for day in days if (day - days[0]).days <= MAX_SPAN_DAYS]
            days = days[len(chunk) :]
            try:
                found = client.rates_for_days(currency_code, chunk)
            except KsefError as error:
                _logger.warning("NBP rates for %s not fetched: %s", currency_code, error.message_en)
                continue
            for day, rate in found.items():
                self._l10n_pl_ksef_store(currency_code, day, rate)
            if found:
                quoted = True
            elif quoted is None and any(last_business_day(day - datetime.timedelta(days=1)) < today for day in chunk):
                quoted = False  # a table of a past business day is out and does not name it
        return quoted

    @api.model
    def _l10n_pl_ksef_store(self, currency_code, rate_day, rate):
        values = {
            "currency_code": currency_code,
            "day_before": rate_day - datetime.timedelta(days=1),
            "effective_date": rate.effective_date,
            "rate_text": str(rate.mid),
            "table_number": rate.table_no,
        }
        try:
            with self.env.cr.savepoint():
                self.sudo().create(values)
        except IntegrityError:  # a concurrent fetch stored it first: the rate is the same
            _logger.debug("NBP rate %s for %s already stored", currency_code, values["day_before"])
