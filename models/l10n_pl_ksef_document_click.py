"""A click sends what was clicked, within the time of the user's request; the cron does the rest.

Send, Send & Print and Check status run the engine (:meth:`_l10n_pl_ksef_run`) on the documents of
the invoices clicked only, plus what must go before them: the queued invoice a waiting correction
corrects (it waits for that invoice's KSeF number, see ``l10n_pl_ksef_document_offline.py``). They
never poll the company's other documents, download its other UPOs or close its sessions: that is
the cron's work, which the click triggers.

Time: every step of a run checks the deadline in the context (``l10n_pl_ksef_deadline``, a
``time.monotonic()`` moment): a click gets :func:`~.l10n_pl_ksef_budget.click_budget` (30 s, at most half
of ``limit_time_real``), a cron job :func:`~.l10n_pl_ksef_budget.cron_budget`. A run whose time is up
stops before its next KSeF call; the documents it did not reach stay queued for the cron, and the user
is told they go in the background.

Transactions: a click commits its own documents' states around each KSeF call, as the exactly-once
protocol requires (a document is claimed and committed before it leaves, its answer committed once
known) — the accepted practice of Odoo's EDI (``account_edi`` commits around web services too). That
commit also makes durable what the request did before it (the queueing, Send & Print's own work up to
the KSeF step): the queued documents must exist before KSeF has them. A click never rolls back the
request's cursor: an unexpected error goes up to Odoo, which rolls back the request (and retries it on a
serialization failure) as for any request; what was committed before is the state of the protocol,
which the next run resumes from.
"""

import time

from odoo import api, models

from .l10n_pl_ksef_budget import click_budget, cron_budget, deadline_in, seconds_to
from .l10n_pl_ksef_document import PENDING_STATES
from .l10n_pl_ksef_send_turn import PROBE_KEY, SHARE_KEY

#: context key: the ``time.monotonic()`` moment after which a run starts no further KSeF call
DEADLINE_KEY = "l10n_pl_ksef_deadline"


class L10nPlKsefDocument(models.Model):
    _inherit = "l10n_pl_ksef.document"

    # ------------------------------------------------------------------ time

    def _l10n_pl_ksef_with_budget(self, seconds):
        """These documents (or this model) with a deadline ``seconds`` from now in their context."""
        return self.with_context(**{DEADLINE_KEY: deadline_in(seconds)})

    @api.model
    def _l10n_pl_ksef_time_left(self, interactive=False):
        """Seconds left to this run: until the context's deadline, else a click's or a cron job's budget.

        A company's probe after failures (``PROBE_KEY``) waits for KSeF only until its share ends; a
        healthy company's waits (a batch, a login) may go on to the run's deadline."""
        deadline = self.env.context.get(DEADLINE_KEY)
        left = (click_budget() if interactive else cron_budget(self.env)) if deadline is None else seconds_to(deadline)
        share = self.env.context.get(SHARE_KEY)
        if share is not None and self.env.context.get(PROBE_KEY):
            left = min(left, seconds_to(share))
        return left

    @api.model
    def _l10n_pl_ksef_time_up(self, share=True):
        """Whether the context's deadline, or the company's share of the cron run, has passed (none: never);
        ``share=False``: the run's deadline only."""
        ends = [self.env.context.get(key) for key in ((DEADLINE_KEY, SHARE_KEY) if share else (DEADLINE_KEY,))]
        ends = [end for end in ends if end is not None]
        return bool(ends) and time.monotonic() >= min(ends)

    # ------------------------------------------------------------------ clicks

    def _l10n_pl_ksef_with_first(self):
        """These documents and those that must reach KSeF before them: the pending document of the invoice
        each waiting correction corrects."""
        return self | self.waits_for_id.filtered(lambda d: d.state in PENDING_STATES)

    def _l10n_pl_ksef_click(self):
        """Send these documents (and what must go first), check their status and fetch their UPOs now,
        within a click's time; returns ``{"time_up": bool, "busy": bool}``. The rest is the cron's."""
        summary = {"time_up": False, "busy": False}
        Document = self.browse()._l10n_pl_ksef_with_budget(click_budget())
        for company, documents in self.sudo()._l10n_pl_ksef_with_first().grouped("company_id").items():
            documents = documents.with_env(Document.env)
            # a second pass sends the corrections whose invoice KSeF accepted in the first one
            for _pass in range(2):
                if Document._l10n_pl_ksef_time_up():
                    summary["time_up"] = True
                    break
                result = Document._l10n_pl_ksef_run(company, interactive=True, only=documents)
                summary["time_up"] |= bool(result.get("time_up"))
                summary["busy"] |= bool(result.get("busy"))
                summary["tokens_ended"] = summary.get("tokens_ended") or result.get("error_code") == "tokens_ended"
                released = documents.filtered(
                    lambda d: d.state == "to_send" and not d.invoice_hash and d.waits_for_id.state == "accepted"
                )
                if not released:
                    break
        # what the click did not finish (and the company's other work) goes to the cron
        self._l10n_pl_ksef_wake_up()
        return summary
