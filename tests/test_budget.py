"""The time of a cron job comes from Odoo's real-time limits of its worker, not from constants."""

import time
from unittest.mock import patch

from odoo.tests import TransactionCase, tagged
from odoo.tools import config

from odoo.addons.base.models.ir_cron import MIN_TIME_PER_JOB
from odoo.addons.l10n_pl_ksef.models import l10n_pl_ksef_budget as budget


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefBudget(TransactionCase):
    def limits(self, real, cron, workers=0, cpu=60):
        return patch.dict(
            config.options,
            {"limit_time_real": real, "limit_time_real_cron": cron, "workers": workers, "limit_time_cpu": cpu},
        )

    def test_a_cron_job_works_for_a_share_of_its_worker_real_time_limit(self):
        with self.limits(120, -1):  # Odoo's defaults: cron jobs are bounded as requests
            self.assertEqual(budget.real_time_limit(cron=True), 120)
            self.assertAlmostEqual(budget.cron_budget(self.env), 96.0)
        with self.limits(120, 0):
            self.assertAlmostEqual(budget.cron_budget(self.env), 96.0, msg="0: as requests (threaded servers)")
        with self.limits(120, 900):  # a longer limit for cron workers
            self.assertAlmostEqual(budget.cron_budget(self.env), 720.0)
            self.assertAlmostEqual(budget.cron_budget(self.env, share=0.5), 450.0)
        with self.limits(0, 0):  # no limit at all: the default keeps a job from running forever
            self.assertAlmostEqual(budget.cron_budget(self.env, default=300.0), 300.0)

    def test_a_cron_job_budget_counts_from_the_job_start(self):
        # Odoo calls a job's method again while it reports progress: all the calls share the job's time
        started = time.monotonic() - 50.0
        env = self.env(context=dict(self.env.context, cron_end_time=started + MIN_TIME_PER_JOB))
        with self.limits(120, -1):
            self.assertAlmostEqual(budget.cron_budget(env), 46.0, delta=2.0)
        with self.limits(60, -1):
            self.assertEqual(budget.cron_budget(env), 0.0, "spent: never negative")

    def test_a_click_gets_30_seconds_at_most_half_the_request_limit(self):
        with self.limits(120, -1):
            self.assertEqual(budget.click_budget(), 30.0)
        with self.limits(40, -1):
            self.assertEqual(budget.click_budget(), 20.0)
        with self.limits(0, -1):
            self.assertEqual(budget.click_budget(), 30.0)

    def test_prefork_workers_cpu_limit_bounds_the_budget_too(self):
        """A prefork worker is killed after ``limit_time_cpu`` seconds of CPU in one turn (a CPU-bound import of
        a backlog would reach it before its real-time budget): the budget stays within it."""
        with self.limits(120, -1, workers=4, cpu=60):  # Odoo's defaults in prefork
            self.assertEqual(budget.real_time_limit(cron=True), 60)
            self.assertAlmostEqual(budget.cron_budget(self.env), 48.0)
            self.assertEqual(budget.click_budget(), 30.0)
        with self.limits(120, 900, workers=4, cpu=600):
            self.assertAlmostEqual(budget.cron_budget(self.env), 480.0)
        with self.limits(120, 900, workers=4, cpu=0):  # no CPU limit set
            self.assertAlmostEqual(budget.cron_budget(self.env), 720.0)
        with self.limits(120, -1, workers=0, cpu=60):  # threaded servers do not enforce it
            self.assertAlmostEqual(budget.cron_budget(self.env), 96.0)
        with self.limits(0, 0, workers=2, cpu=40):
            self.assertEqual(budget.click_budget(), 20.0)
