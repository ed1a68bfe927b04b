"""The date-sensitive flows under fixed clocks: the newcomer's demo (its invoices sent and accepted, its first
Import now) on days and hours where dates are easy to get wrong.

Odoo's clock (``freezegun``, ticking) and the simulator's (it reads the same ``time.time``) are both set to each
instant (PostgreSQL's own clock is not: the addon never compares it with Python's), so the tests pass on any
day and at any hour of the machine: a Monday, 31 December at 23:30 Warsaw time (22:30 UTC), the first hour of
1 January in Warsaw (still 31 December in UTC), and both nights of the daylight-saving change (the hour that
does not exist on the last Sunday of March, the hour that comes twice on the last Sunday of October).
"""

import contextlib
import datetime

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.calendar_pl import warsaw_now
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator

from .common import production_path
from .test_demo import L10nPlKsefDemoCommon

UTC = datetime.timezone.utc


def ksef_clock(instant):
    """``freeze_time(instant, tick=True)`` that the simulator's threads follow too: freezegun gives real time
    to calls made near a ``threading`` frame, which the simulator's batch processing is."""
    freezer = freeze_time(instant, tick=True)
    inner = getattr(freezer, "freezer", freezer)  # Odoo's test suite wraps freezegun's own
    inner.ignore = tuple(name for name in inner.ignore if name != "threading")
    return freezer


#: the instants (UTC) where dates are easy to get wrong; the tests below and ``test_clocks_classes`` use them
INSTANTS = {
    "Monday": datetime.datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
    "NewYearsEve2330Warsaw": datetime.datetime(2026, 12, 31, 22, 30, tzinfo=UTC),
    "NewYear0030Warsaw": datetime.datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
    "SpringForwardNight": datetime.datetime(2027, 3, 28, 0, 45, tzinfo=UTC),
    "FallBackNight": datetime.datetime(2027, 10, 31, 1, 45, tzinfo=UTC),
}


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefClocks(L10nPlKsefDemoCommon):
    """The demo made at each instant on a new company, against a new simulator: the newcomer's first Import now
    brings what KSeF holds, the scheduled import leaves it to him, and the invoices the demo sends are dated
    and numbered by KSeF's (Warsaw) day."""

    @classmethod
    def setUpClass(cls):
        # the demo is made in each test, at its instant, not once for the class
        super(L10nPlKsefDemoCommon, cls).setUpClass()
        production_path(cls)
        cls.no_demo = None
        if cls.env["ir.module.module"]._get("l10n_pl").state != "installed":
            cls.no_demo = "The demo needs the Polish chart of accounts (l10n_pl), not installed in this database."

    def check_at(self, instant):
        admin = self.env.ref("base.user_admin")
        with contextlib.ExitStack() as stack:
            stack.enter_context(ksef_clock(instant))
            simulator = stack.enter_context(running_simulator())
            company = self.env["res.company"].create(
                {
                    "name": "Demo",
                    "country_id": self.env.ref("base.pl").id,
                    "currency_id": self.env.ref("base.PLN").id,
                }
            )
            self.env["l10n_pl_ksef.demo"]._l10n_pl_ksef_make_demo(company, simulator.base_url)
            moves = self.env["account.move"].with_company(company)
            bills = [("company_id", "=", company.id), ("move_type", "=", "in_invoice")]
            self.env["res.company"]._cron_l10n_pl_ksef_receive()
            self.assertFalse(moves.search(bills), "the scheduled import leaves them to the user's Import now")
            company.with_user(admin).action_l10n_pl_ksef_receive_now()
            received = moves.search(bills)
            self.assertEqual(len(received), 3, "the first Import now makes the three bills")
            self.assertTrue(all(received.mapped("l10n_pl_ksef_number")))
            today = warsaw_now(instant).date()
            self.assertTrue(all(day < today for day in received.mapped("invoice_date")), "issued on earlier days")
            invoices = moves.search([("company_id", "=", company.id), ("move_type", "=", "out_invoice")])
            accepted = invoices.filtered(lambda m: m.l10n_pl_ksef_state == "accepted")
            self.assertEqual(len(accepted), 2)
            for move in accepted:
                self.assertEqual(move.invoice_date, today, "dated by the day in Warsaw")
                stored = simulator.sim.invoice_store.invoices[move.l10n_pl_ksef_number]
                self.assertEqual(stored["issueDate"], today.isoformat())
                self.assertEqual(stored["invoicingMode"], "Online", "issued the day KSeF received it")
                self.assertIn("-%s-" % today.strftime("%Y%m%d"), move.l10n_pl_ksef_number)

    def test_a_monday_morning(self):
        self.check_at(datetime.datetime(2026, 12, 7, 8, 0, tzinfo=UTC))

    def test_31_december_2330_in_warsaw(self):
        """22:30 UTC: the last half hour of the year in Warsaw."""
        self.check_at(datetime.datetime(2026, 12, 31, 22, 30, tzinfo=UTC))

    def test_1_january_0030_in_warsaw(self):
        """Already 1 January in Warsaw, still 31 December in UTC (and for a user without a time zone)."""
        self.check_at(datetime.datetime(2026, 12, 31, 23, 30, tzinfo=UTC))

    def test_1_january_at_noon(self):
        self.check_at(datetime.datetime(2027, 1, 1, 11, 0, tzinfo=UTC))

    def test_spring_forward_night(self):
        """28 March 2027: at 02:00 Warsaw clocks jump to 03:00 (01:00 UTC); 00:45 UTC is 01:45 CET."""
        self.check_at(datetime.datetime(2027, 3, 28, 0, 45, tzinfo=UTC))

    def test_spring_forward_night_after_the_jump(self):
        self.check_at(datetime.datetime(2027, 3, 28, 1, 15, tzinfo=UTC))

    def test_fall_back_night_first_0245(self):
        """31 October 2027: 02:00-03:00 Warsaw comes twice; 00:45 UTC is the first 02:45 (CEST)."""
        self.check_at(datetime.datetime(2027, 10, 31, 0, 45, tzinfo=UTC))

    def test_fall_back_night_second_0245(self):
        self.check_at(datetime.datetime(2027, 10, 31, 1, 45, tzinfo=UTC))
