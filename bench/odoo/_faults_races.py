"""The faults benchmark's races between two actors (issue 26): a user withdrawing an invoice while the cron
sends the queue, an environment switch with invoices on their way, a KSeF number typed by hand while the
invoice is being sent.

Not a benchmark itself (its name starts with "_"): ``faults.py`` registers these scenarios with
:func:`register`. The users act over JSON-RPC against the real server, as the web client would; each
request commits on its own.
"""

import collections
import datetime
import secrets
import threading
import time

from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import make_ksef_number
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator

PENDING = ("to_send", "sending", "processing")


def rpc(ctx, model, method, args, kwargs=None):
    """``(result, error message)`` of a call by the administrator over JSON-RPC."""
    try:
        answer = ctx.rig.jsonrpc(ctx.admin_uid(), "admin", model, method, args, kwargs, company_id=ctx.company_id)
    except Exception as exc:  # the request itself failed: no answer
        return None, "no answer: %s" % exc
    if "error" in answer:
        data = answer["error"].get("data") or {}
        return None, data.get("message") or answer["error"].get("message") or "error"
    return answer.get("result"), None


def held_by(sim, nip, names):
    """``{invoice number: [KSeF numbers]}`` of what this simulator's store holds of ``names``."""
    held = collections.defaultdict(list)
    with sim.state.lock:
        for number, record in sim.invoice_store.invoices.items():
            if (record.get("seller") or {}).get("nip") == nip and record.get("invoiceNumber") in names:
                held[record.get("invoiceNumber")].append(number)
    return held


def moves(ctx, ids):
    """``[(id, name, move state, KSeF number on the move)]``."""
    return ctx.rig.query(
        "SELECT id, name, state, l10n_pl_ksef_number FROM account_move WHERE id = ANY(%s) ORDER BY id", (list(ids),)
    )


def live_documents(ctx, move_id):
    """``[(state, KSeF number, endpoint)]`` of the invoice's documents that are not withdrawn."""
    return ctx.rig.query(
        "SELECT state, ksef_number, endpoint FROM l10n_pl_ksef_document WHERE move_id = %s AND state != 'cancelled'",
        (move_id,),
    )


def nothing_pending(ctx, ids):
    rows = ctx.rig.query(
        "SELECT state, count(*) FROM l10n_pl_ksef_document WHERE move_id = ANY(%s) AND state = ANY(%s) GROUP BY 1",
        (list(ids), list(PENDING)),
    )
    return True if not rows else tuple(sorted(rows))


def register(faults):
    scenario, sent_outcome, combine, send_path = faults.scenario, faults.sent_outcome, faults.combine, faults.SEND

    @scenario("reset-race", "a user resets the last queued invoice to draft while the cron sends, KSeF answering late")
    def reset_race(ctx):
        # the first send is answered 4 s late (within the client's timeout): the cron's run is in the middle of
        # the queue when the user's reset commits
        fault = ctx.sim.faults.delay(send_path, faults.TIMEOUT - 1, method="POST", after=True)
        ids = ctx.post(4)
        assert ctx.rig.wait_fault_taken(fault), "the cron sent nothing"
        taken = time.monotonic()
        last = ids[-1]
        _result, refused = rpc(ctx, "account.move", "button_draft", [[last]])
        in_flight = time.monotonic() - taken < faults.TIMEOUT - 1
        others = ids[:-1]
        took = ctx.settle_sent(others)
        if took is not None:
            rest = ctx.rig.settle(lambda: nothing_pending(ctx, ids))
            took = None if rest is None else took + rest
        ((_id, name, state, number),) = moves(ctx, [last])
        if refused:  # the sender had it already: it must end accepted like the others
            outcome = sent_outcome(ctx, ids, took)
            return outcome, "reset refused (%s)" % refused[:80]
        # withdrawn: KSeF must never get it (a duplicate: KSeF holds a file the invoice no longer is), the
        # draft carries no number and its document is withdrawn
        leaked = len(held_by(ctx.sim, ctx.nip, {name}).get(name, []))
        half = int(state != "draft" or bool(number) or bool(live_documents(ctx, last)))
        first = sent_outcome(ctx, others, took)
        first = (first[0] + leaked, first[1], first[2] + half, first[3], first[4])
        if leaked:
            return first, "the withdrawn invoice reached KSeF %d time(s)" % leaked
        # confirmed again (as the user would after editing it): sent once, now
        _result, error = rpc(ctx, "account.move", "action_post", [[last]])
        if error:
            raise RuntimeError("confirming the withdrawn invoice again failed: %s" % error)
        again = sent_outcome(ctx, [last], ctx.settle_sent([last]))
        note = "reset committed %s the cron's run; withdrawn, never sent; confirmed again and sent once" % (
            "in the middle of" if in_flight else "after"
        )
        return combine(first, again), note

    @scenario("env-switch", "invoices queued for simulator A, the company switched to simulator B")
    def env_switch(ctx):
        with running_simulator(rate_limits=False) as other:
            try:
                return switch(ctx, other)
            finally:
                ctx.sim.faults.clear()
                # back to A for the next scenarios (nothing is pending in B by then, or the switch is refused)
                switch_to(ctx, ctx.rig.srv)
                ctx.token = ctx.current_token()

    def switch_to(ctx, srv):
        """The administrator saves a token of ``srv`` in the KSeF set-up (JSON-RPC); ``(wizard id, refusal)``."""
        token = srv.sim.mint_token(ctx.nip, ("InvoiceWrite", "InvoiceRead"))
        values = {
            "company_id": ctx.company_id,
            "step": "credentials",
            "environment": "custom",
            "custom_url": srv.base_url,
            "auth_method": "token",
            "token": token,
        }
        wizard_id, error = rpc(ctx, "l10n_pl_ksef.setup.wizard", "create", [values])
        if error:
            raise RuntimeError("the KSeF set-up could not be opened: %s" % error)
        _result, refused = rpc(ctx, "l10n_pl_ksef.setup.wizard", "action_save_credentials", [[wizard_id]])
        return wizard_id, refused

    def switch(ctx, other):
        ctx.sim.faults.delay(send_path, 1.0, method="POST", count=None)  # A takes its time
        ids = ctx.post(10)
        assert ctx.wait_held(ids, 2), "sending did not start"
        wizard_id, refused = switch_to(ctx, other)
        if not refused:
            raise RuntimeError("the switch to another KSeF was not refused with invoices on their way")
        _result, error = rpc(ctx, "l10n_pl_ksef.setup.wizard", "action_withdraw_unsent", [[wizard_id]])
        if error:
            raise RuntimeError("withdrawing the unsent invoices failed: %s" % error)
        withdrawn = [row[0] for row in moves(ctx, ids) if not live_documents(ctx, row[0])]
        # those A has (or may have) finish in A
        took = ctx.rig.settle(lambda: nothing_pending(ctx, ids))
        if took is None:
            raise RuntimeError("the invoices with KSeF A never settled")
        _wizard, refused = switch_to(ctx, other)
        if refused:
            raise RuntimeError("the switch to B was refused with nothing pending: %s" % refused)
        # the withdrawn invoices are sent again, now to B (the accountant's click)
        if withdrawn:
            _result, error = rpc(ctx, "account.move", "action_l10n_pl_ksef_send", [withdrawn])
            if error:
                raise RuntimeError("sending the withdrawn invoices again failed: %s" % error)
        took = ctx.settle_sent(ids)
        duplicates, lost, half, detail = count_two(ctx, ids, other)
        note = "switch refused while %d were on their way; %d withdrawn and sent to B, %d finished in A" % (
            len(ids),
            len(withdrawn),
            len(ids) - len(withdrawn),
        )
        return (duplicates, lost, half, "%d invoices: %s" % (len(ids), detail), took), note

    def count_two(ctx, ids, other):
        """(duplicates, lost, half-made, detail) of invoices each of which must be held by exactly one of
        the two simulators, with the number Odoo shows."""
        rows = moves(ctx, ids)
        names = {row[1] for row in rows}
        in_a, in_b = held_by(ctx.sim, ctx.nip, names), held_by(other.sim, ctx.nip, names)
        duplicates = lost = half = 0
        detail = collections.Counter()
        for move_id, name, _state, number in rows:
            held = in_a.get(name, []) + in_b.get(name, [])
            duplicates += max(0, len(held) - 1)
            documents = live_documents(ctx, move_id)
            duplicates += max(0, len(documents) - 1)
            accepted = [d for d in documents if d[0] == "accepted"]
            detail["in A" if name in in_a else "in B" if name in in_b else "in neither"] += 1
            if not accepted:
                lost += 1
                half += bool(held)
            elif not number or number not in held or accepted[0][1] != number:
                half += 1
        return duplicates, lost, half, ", ".join("%s %d" % item for item in sorted(detail.items()))

    @scenario("manual-number-race", "a KSeF number typed by hand while another user sends the same invoice")
    def manual_number_race(ctx):
        ids = ctx.post_manual(3)
        ctx.sim.faults.delay(send_path, 1.0, method="POST", count=None)
        target = ids[-1]
        typed = make_ksef_number(ctx.nip, datetime.date.today(), secrets.token_hex(6))
        answers = {}

        def click():
            answers["send"] = rpc(ctx, "account.move", "action_l10n_pl_ksef_send", [ids])

        def manual():
            values = {"move_id": target, "ksef_number": typed}
            wizard_id, error = rpc(ctx, "l10n_pl_ksef.manual.number", "create", [values])
            answers["manual"] = error or rpc(ctx, "l10n_pl_ksef.manual.number", "action_confirm", [[wizard_id]])[1]

        threads = [threading.Thread(target=f, daemon=True) for f in (click, manual)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)
        unsent = [row[0] for row in moves(ctx, ids[:-1]) if not live_documents(ctx, row[0])]
        if unsent:  # the click was refused as a whole (the typed number won): the user clicks the others again
            _result, error = rpc(ctx, "account.move", "action_l10n_pl_ksef_send", [unsent])
            if error:
                raise RuntimeError("sending the other invoices failed: %s" % error)
        took = ctx.rig.settle(lambda: nothing_pending(ctx, ids))
        ((_id, name, _state, number),) = moves(ctx, [target])
        held = held_by(ctx.sim, ctx.nip, {name}).get(name, [])
        documents = live_documents(ctx, target)
        rest = sent_outcome(ctx, ids[:-1], took)
        if answers.get("manual"):  # refused: the send had it, which must end accepted
            mine = sent_outcome(ctx, [target], took)
            return combine(rest, mine), "typed number refused (%s)" % answers["manual"][:70]
        # the typed number won: the invoice is never sent, one document, with the typed number
        duplicates = len(held) + max(0, len(documents) - 1)
        half = int(number != typed or not documents or documents[0][0] != "accepted")
        return combine(rest, (duplicates, 0, half, "typed number kept", took)), "typed number won, never sent"
