"""Shared set-up of the sending tests: the FA(3) company sending to the bundled KSeF simulator."""

import datetime

from odoo.fields import Command

from .fa3_common import L10nPlKsefFa3Common


class L10nPlKsefSendCommon(L10nPlKsefFa3Common):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulator()
        cls.simulator.sim.invoice_store.configure(permanent_storage_delay=0)
        cls.company.l10n_pl_ksef_send_mode = "manual"
        cls.accountant.write({"group_ids": [Command.link(cls.env.ref("account.group_account_invoice").id)]})

    def setUp(self):
        super().setUp()
        self.connect_to_simulator()
        self.Document = self.env["l10n_pl_ksef.document"]
        self.numbers = iter(range(1, 10**6))

    # ------------------------------------------------------------------ helpers

    def invoice(self, post=True, **values):
        """A posted one-line invoice with a unique number (the simulator refuses a number twice: 440)."""
        values.setdefault("name", "FV/%s/%06d" % (self.id().rsplit(".", 1)[-1][-20:], next(self.numbers)))
        return self.make([self.line(price=100.0)], post=post, **values)

    def invoices(self, count):
        moves = self.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": self.buyer_pl.id,
                    "invoice_date": datetime.date(2026, 11, 20),
                    "invoice_date_due": datetime.date(2026, 12, 4),
                    "invoice_line_ids": [self.line(price=100.0 + i)],
                    "name": "FV/%s/%06d" % (self.id().rsplit(".", 1)[-1][-20:], next(self.numbers)),
                }
                for i in range(count)
            ]
        )
        moves.action_post()
        return moves

    def run_cron(self):
        """One cron pass with everything due (as if the waiting times had passed)."""
        self.Document.sudo().search([("next_try", "!=", False)]).write({"next_try": False})
        self.env["l10n_pl_ksef.send.turn"].sudo().search([("not_before", "!=", False)]).write({"not_before": False})
        return self.Document._cron_l10n_pl_ksef_send()

    def close_idle_sessions(self):
        """One cron pass after the sessions' idle time (close, final status and UPO are due)."""
        sessions = self.env["l10n_pl_ksef.session"].sudo().search([("next_try", "!=", False)])
        sessions.write({"next_try": datetime.datetime.now() - datetime.timedelta(seconds=1)})
        return self.run_cron()

    def stored_numbers_of(self, invoice_number):
        """KSeF numbers the simulator gave an invoice with this seller number (P_2)."""
        return [
            ksef
            for ksef, record in self.sim.invoice_store.invoices.items()
            if record.get("invoiceNumber") == invoice_number
        ]
