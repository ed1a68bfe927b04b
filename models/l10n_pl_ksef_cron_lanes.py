"""Several cron workers on the sending and on the receiving: each has two scheduled actions ("lanes") running
the same method, so that two cron workers (of one server or of two) serve the companies at once.

Odoo runs one scheduled action in one worker at a time. An accounting office's database has hundreds of
companies: one worker taking them one after the other would leave the others idle. A lane that finds two
companies or more with work due triggers the other lanes; all of them take the companies least recently
served first and skip a company another lane has (its advisory lock) or has just served. A company is thus
never served by two workers at once, and the work spreads over the workers (and the servers) free.
"""

SEND_LANES = ("l10n_pl_ksef.ir_cron_l10n_pl_ksef_send", "l10n_pl_ksef.ir_cron_l10n_pl_ksef_send_2")
RECEIVE_LANES = ("l10n_pl_ksef.ir_cron_l10n_pl_ksef_receive", "l10n_pl_ksef.ir_cron_l10n_pl_ksef_receive_2")


def call_other_lanes(env, lanes):
    """Trigger the active lanes of ``lanes`` other than the scheduled action running now; returns how many."""
    running = env.context.get("cron_id")
    called = 0
    for xmlid in lanes:
        cron = env.ref(xmlid, raise_if_not_found=False)
        if cron and cron.id != running and cron.sudo().active:
            cron.sudo()._trigger()
            called += 1
    return called
