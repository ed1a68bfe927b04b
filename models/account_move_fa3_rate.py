"""The exchange rate of a customer invoice or credit note in another currency: which NBP rate the VAT act
asks for, and the rate Odoo books.

- An invoice: the NBP table A average rate of the last business day before the tax point (art. 31a ust. 1);
  when the invoice is issued before the tax point (issue date before the supply date), of the last business
  day before the ISSUE date (art. 31a ust. 2).
- A correction (FA(3) kind KOR, KOR_ZAL, KOR_ROZ: a credit note, or an invoice raising an earlier one's
  amount): the rate of the corrected invoice (art. 31b ust. 1), so that the correction undoes exactly the PLN
  VAT the invoice booked and reported; a rate typed on it must be that one.  A collective correction
  (art. 106j ust. 3: a rebate or price reduction for a period, which it names) may instead use the NBP rate
  of the last business day before its own issue date (art. 31b ust. 2), chosen in the KSeF tab.
- Otherwise a rate the user typed on the invoice wins (e.g. a correction of an invoice not in Odoo).

Rates are only READ here (``l10n_pl_ksef.nbp.rate``): confirming never waits on NBP.  Setting the date or
the currency of a draft triggers the scheduled action that fetches the rate it will need.
"""

from decimal import Decimal

from odoo import api, fields, models
from odoo.tools.translate import LazyTranslate

from ..ksef_core.errors import KsefError
from .account_move_fa3_lines import dec
from .fa3_problems import problem, problem_from_error
from .l10n_pl_ksef_nbp_rate import FETCH_CRON_XMLID

_lt = LazyTranslate(__name__)

#: the FA(3) kinds of a correction (faktura korygująca, art. 106j)
CORRECTION_KINDS = ("KOR", "KOR_ZAL", "KOR_ROZ")
CORRECTION_RATES = [
    ("corrected", "Rate of the corrected invoice (art. 31b ust. 1)"),
    ("collective", "Collective correction: NBP rate of the day before this credit note (art. 31b ust. 2)"),
]
#: a change of these on a draft may need another NBP rate: fetch it ahead
RATE_FIELDS = {
    "invoice_date",
    "currency_id",
    "taxable_supply_date",
    "delivery_date",
    "move_type",
    "company_id",
    "l10n_pl_ksef_correction_rate",
}


def _plain(number):
    """A Decimal as people write it: 4.5, 4.2345 (no trailing zeros, no exponent)."""
    return format(number.normalize(), "f")


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_pl_ksef_correction_rate = fields.Selection(
        CORRECTION_RATES,
        string="Exchange rate of the correction",
        default="corrected",
        copy=False,
        help="A credit note in another currency converts its VAT to PLN at the rate of the invoice it corrects "
        "(art. 31b ust. 1). A collective correction (art. 106j ust. 3: one credit note for several invoices or "
        "for a period, e.g. a rebate) may instead use the NBP rate of the last business day before the credit "
        "note's own date (art. 31b ust. 2).",
    )
    l10n_pl_ksef_correction_period = fields.Char(
        string="Corrected period",
        copy=False,
        help="For a collective correction (art. 106j ust. 3): the period the rebate or price reduction is for, "
        "e.g. 'October 2026' (OkresFaKorygowanej).",
    )

    # ------------------------------------------------------------------ which rate

    def _l10n_pl_ksef_foreign(self):
        """True when the VAT of this move is converted to PLN (another currency, a company in PLN)."""
        return self.currency_id != self.company_currency_id and self.company_currency_id.name == "PLN"

    def _l10n_pl_ksef_is_correction(self):
        """True for a correction (FA(3) kind KOR, KOR_ZAL, KOR_ROZ), a credit note or not."""
        kind = self.l10n_pl_ksef_kind or ("KOR" if self.move_type == "out_refund" else "VAT")
        return kind in CORRECTION_KINDS

    def _l10n_pl_ksef_is_collective(self):
        """A collective correction (art. 106j ust. 3): a rebate or price reduction for a period, which it names
        (OkresFaKorygowanej); several corrected invoices alone are not one."""
        return bool((self.l10n_pl_ksef_correction_period or "").strip())

    def _l10n_pl_ksef_at_corrected_rate(self):
        """True for a correction converted at the rate of the invoice it corrects (art. 31b ust. 1)."""
        return self._l10n_pl_ksef_is_correction() and self.l10n_pl_ksef_correction_rate != "collective"

    def _l10n_pl_ksef_corrected_move(self):
        """The Odoo invoice (same currency) whose rate this correction takes, or an empty recordset."""
        corrected = self.l10n_pl_ksef_corrected_ids
        if corrected:
            origin = corrected.origin_move_id if len(corrected) == 1 else self.browse()
        else:
            origin = self._l10n_pl_ksef_correction_origin()
        return origin.filtered(lambda move: move.currency_id == self.currency_id and move.invoice_currency_rate)

    def _l10n_pl_ksef_rate_day(self):
        """The day whose NBP rate this move needs (the rate of the last business day BEFORE it), or None
        when it needs none (PLN, a credit note at its corrected invoice's rate)."""
        self.ensure_one()
        if not self._l10n_pl_ksef_foreign() or self._l10n_pl_ksef_at_corrected_rate():
            return None
        issue = self.invoice_date or fields.Date.context_today(self)
        if self._l10n_pl_ksef_is_correction():
            return issue  # art. 31b ust. 2: the day before the collective correction's issue date
        supply = self.taxable_supply_date or self.delivery_date
        if supply and issue < supply:
            return issue  # art. 31a ust. 2: issued before the tax point
        return supply or issue  # art. 31a ust. 1: the tax point

    def _l10n_pl_ksef_vat_rate(self, problems):
        """``(PLN per unit, note)`` for the VAT in PLN of an invoice in another currency (art. 31a, 31b).

        ``(None, None)`` for a PLN invoice; problems (a rate not fetched yet...) are appended.
        """
        if not self._l10n_pl_ksef_foreign():
            return None, None
        if (
            self._l10n_pl_ksef_is_correction()
            and not self._l10n_pl_ksef_at_corrected_rate()
            and not self._l10n_pl_ksef_is_collective()
        ):
            problems.append(
                problem(
                    _lt(
                        "'Collective correction' is chosen as the exchange rate of this correction, but it names no "
                        "corrected period: the NBP rate of the day before the correction (art. 31b ust. 2) is only "
                        "for a collective correction, a rebate or price reduction granted for a period (art. 106j "
                        "ust. 3), which states that period. Fill in the KSeF tab ▸ Corrected period, or choose 'Rate "
                        "of the corrected invoice'."
                    )
                )
            )
            return None, None
        origin = self._l10n_pl_ksef_corrected_move() if self._l10n_pl_ksef_at_corrected_rate() else self.browse()
        if origin:
            rate = dec(1.0 / origin.invoice_currency_rate, 6)
            if self._l10n_pl_ksef_rate_set_by_user() and not self._l10n_pl_ksef_same_rate(origin):
                problems.append(
                    problem(
                        _lt(
                            "The exchange rate typed on this correction (%(typed)s PLN per %(currency)s) is not the "
                            "rate of the invoice it corrects, %(invoice)s (%(rate)s PLN): a correction converts its "
                            "VAT at the corrected invoice's rate, so that it undoes exactly the PLN VAT that invoice "
                            "booked (art. 31b ust. 1). Set the exchange rate of the correction back to %(rate)s PLN "
                            "(remove your rate), or, for a collective correction (a rebate for a period, art. 106j "
                            "ust. 3), choose 'Collective correction' in the KSeF tab ▸ Exchange rate of the "
                            "correction and fill in the Corrected period.",
                            typed=_plain(dec(1.0 / self.invoice_currency_rate, 6)),
                            currency=self.currency_id.name,
                            invoice=origin.name,
                            rate=_plain(rate),
                        )
                    )
                )
                return None, None
            note = self.env._(
                "Rate of the corrected invoice %(invoice)s: %(rate)s PLN (art. 31b ust. 1)",
                invoice=origin.name,
                rate=rate,
            )
            return rate, note
        day = self._l10n_pl_ksef_rate_day()
        if self._l10n_pl_ksef_rate_set_by_user():
            stored = day and self.env["l10n_pl_ksef.nbp.rate"]._l10n_pl_ksef_stored(self.currency_id.name, day)
            if stored and abs(self.invoice_currency_rate * float(stored.rate_text) - 1.0) < 1e-9:
                # the NBP rate Odoo booked when the invoice was confirmed
                return Decimal(stored.rate_text), self._l10n_pl_ksef_nbp_note(
                    day, stored.rate_text, stored.effective_date, stored.table_number
                )
            rate = dec(1.0 / self.invoice_currency_rate, 6)
            return rate, self.env._("Exchange rate set on the invoice: %(rate)s PLN", rate=rate)
        if self._l10n_pl_ksef_at_corrected_rate():
            problems.append(
                problem(
                    _lt(
                        "This correction in %(currency)s corrects an invoice that is not in Odoo, or several "
                        "invoices: its VAT is converted at the corrected invoice's rate (art. 31b ust. 1). Enter that "
                        "rate on the correction (Currency Rate), or, for a collective correction (a rebate for a "
                        "period, art. 106j ust. 3), choose 'Collective correction' in the KSeF tab ▸ Exchange rate of "
                        "the correction and fill in the Corrected period.",
                        currency=self.currency_id.name,
                    )
                )
            )
            return None, None
        try:
            text, effective, table = self.env["l10n_pl_ksef.nbp.rate"]._l10n_pl_ksef_rate(self.currency_id.name, day)
        except KsefError as error:
            problems.append(problem_from_error(error))
            return None, None
        return Decimal(text), self._l10n_pl_ksef_nbp_note(day, text, effective, table)

    def _l10n_pl_ksef_nbp_note(self, day, text, effective, table):
        """Which NBP rate the invoice takes, and why (art. 31a ust. 1-2, art. 31b ust. 2)."""
        values = {"rate": text, "date": effective, "table": table or "-"}
        if self._l10n_pl_ksef_is_correction():
            return self.env._(
                "NBP average rate %(rate)s PLN of %(date)s (table %(table)s), the last business day before this "
                "collective correction (art. 31b ust. 2)",
                **values,
            )
        if day < (self.taxable_supply_date or self.delivery_date or day):
            return self.env._(
                "NBP average rate %(rate)s PLN of %(date)s (table %(table)s), the last business day before the issue "
                "date: the invoice is issued before the tax point (art. 31a ust. 2)",
                **values,
            )
        return self.env._(
            "NBP average rate %(rate)s PLN of %(date)s (table %(table)s), the last business day before the tax point",
            **values,
        )

    def _l10n_pl_ksef_same_rate(self, other):
        """True when this move is booked at the rate of ``other``."""
        return abs(self.invoice_currency_rate - other.invoice_currency_rate) <= 1e-9 * other.invoice_currency_rate

    def _l10n_pl_ksef_rate_set_by_user(self):
        """True when the invoice's rate is not Odoo's automatic one (the user typed it)."""
        automatic = self.env["res.currency"]._get_conversion_rate(
            self.company_currency_id, self.currency_id, self.company_id, self._get_invoice_currency_rate_date()
        )
        return bool(self.invoice_currency_rate) and abs(self.invoice_currency_rate - automatic) > 1e-9 * max(
            1, automatic
        )

    # ------------------------------------------------------------------ the rate Odoo books

    def _l10n_pl_ksef_booking_rate(self):
        """The ``invoice_currency_rate`` the VAT act asks for (stored rates only), or None (keep it)."""
        self.ensure_one()
        if not self._l10n_pl_ksef_foreign() or self._l10n_pl_ksef_rate_set_by_user():
            return None
        if self._l10n_pl_ksef_at_corrected_rate():
            origin = self._l10n_pl_ksef_corrected_move()
            return origin.invoice_currency_rate if origin else None
        rate, _note = self._l10n_pl_ksef_vat_rate([])
        return 1.0 / float(rate) if rate else None

    def _l10n_pl_ksef_apply_vat_rate(self):
        """Give a draft invoice in another currency the rate of art. 31a / 31b, unless the user set a rate."""
        self.ensure_one()
        rate = self._l10n_pl_ksef_booking_rate()
        if rate and rate != self.invoice_currency_rate:
            self.invoice_currency_rate = rate

    # ------------------------------------------------------------------ fetching ahead

    @api.model_create_multi
    def create(self, vals_list):
        moves = super().create(vals_list)
        moves._l10n_pl_ksef_fetch_rates_ahead()
        return moves

    def write(self, vals):
        result = super().write(vals)
        if RATE_FIELDS.intersection(vals):
            self._l10n_pl_ksef_fetch_rates_ahead()
        return result

    def _l10n_pl_ksef_fetch_rates_ahead(self):
        """Trigger the NBP rates fetch when a draft customer invoice needs a rate not stored yet."""
        Rate = self.env["l10n_pl_ksef.nbp.rate"]
        for move in self:
            if (
                move.state != "draft"
                or move.move_type not in ("out_invoice", "out_refund")
                or not move.company_id.l10n_pl_ksef_active
            ):
                continue
            day = move._l10n_pl_ksef_rate_day()
            if day and not Rate._l10n_pl_ksef_stored(move.currency_id.name, day):
                cron = self.env.ref(FETCH_CRON_XMLID, raise_if_not_found=False)
                if cron:
                    cron.sudo()._trigger()
                return
