"""The verdicts of bench/odoo/hostile.py: what each input left behind on each path, and the result line."""

import collections
import importlib.util
import os
import re
import resource
import sys
from pathlib import Path

from odoo.addons.l10n_pl_ksef.ksef_core.errors import KsefError
from odoo.addons.l10n_pl_ksef.ksef_core.fa3 import parse_fa3
from odoo.addons.l10n_pl_ksef.ksef_core.fa3.bill import bill_from_invoice
from odoo.addons.l10n_pl_ksef.ksef_core.hashing import sha256_b64

HERE = Path(__file__).resolve()
VISUAL_REPORT = "l10n_pl_ksef.action_report_ksef_visualization"
INVOICE_REPORT = "account.account_invoices"
#: categories whose bills are rendered (visualization and PDF report) and searched for unescaped markup
RENDERED = ("markup", "unicode", "long", "entities", "xxe", "encoding", "other")


def _load(name):
    spec = importlib.util.spec_from_file_location("ksef_bench_" + name.strip("_"), HERE.with_name(name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


checks = _load("_hostile_checks")
inputs_module = _load("_hostile_inputs")
GENERIC = checks.GENERIC
#: bills with markup whose rendered texts were searched, and where the (escaped) payload was found
SHOWN = collections.Counter()


class Verdict:
    __slots__ = ("partial", "problems", "traceback")

    def __init__(self):
        self.problems, self.traceback, self.partial = [], False, False

    def fail(self, path, text, traceback=False, partial=False):
        self.problems.append("%s: %s" % (path, text))
        self.traceback |= traceback
        self.partial |= partial


def expected_lines(case, digits):
    """Product lines the bill of ``case`` must have, or None when the file is not a valid FA(3)."""
    try:
        invoice = parse_fa3(case.data)
    except KsefError:
        return None
    return len(bill_from_invoice(invoice, price_digits=digits).lines)


def check_message(verdict, path, text, translations):
    for problem in checks.message_problems(text, translations):
        traceback = problem.startswith(("exception text", "generic message"))
        verdict.fail(path, problem, traceback=traceback)


def check_bill(env, verdict, path, case, bill, lines):
    """A bill was made: it must be complete, its texts escaped everywhere, a wrong total noted."""
    if case.expect == "refuse":
        verdict.fail(path, "a bill was made from a file that must be refused")
    if lines is None:
        verdict.fail(path, "a bill was made from a file that is not a valid FA(3)", partial=True)
    products = bill.invoice_line_ids.filtered(lambda line: line.display_type == "product")
    if lines is not None and len(products) != lines:
        verdict.fail(path, "partial bill: %d of %d lines" % (len(products), lines), partial=True)
    if bill.l10n_pl_ksef_invoice_hash != sha256_b64(case.data):
        verdict.fail(path, "the bill does not carry the hash of its file")
    if not bill.partner_id:
        verdict.fail(path, "the bill has no supplier", partial=True)
    bodies = "\n".join(bill.message_ids.mapped(lambda m: str(m.body or "")))
    leaks = checks.markup_leaks(bodies, inputs_module.MARKUP_LEAK)
    if leaks:
        verdict.fail(path, "unescaped markup in the chatter: %s" % leaks)
    if case.note and not re.search(case.note, checks.plain(bodies)):
        verdict.fail(path, "the totals do not add up and the bill does not say so")
    if case.category not in RENDERED and not case.payloads:
        return
    try:
        visual = str(bill._l10n_pl_ksef_visual_html())
        report = env["ir.actions.report"].sudo()
        visual_pdf = str(report._render_qweb_html(VISUAL_REPORT, bill.ids)[0], "utf-8", "replace")
        invoice_pdf = str(report._render_qweb_html(INVOICE_REPORT, bill.ids)[0], "utf-8", "replace")
    except Exception as exc:
        verdict.fail(path, "rendering failed: %s: %s" % (type(exc).__name__, str(exc)[:160]), traceback=True)
        return
    if case.payloads:  # the check is not vacuous: the payload's text is there, escaped
        SHOWN["rendered"] += 1
        SHOWN["in the visualization"] += inputs_module.MARK in visual_pdf
        SHOWN["in the chatter or the bill PDF"] += inputs_module.MARK in bodies + invoice_pdf
    for what, text in (("visualization", visual), ("visualization PDF", visual_pdf), ("bill PDF", invoice_pdf)):
        leaks = checks.markup_leaks(text, inputs_module.MARKUP_LEAK)
        if leaks:
            verdict.fail(path, "unescaped markup in the %s: %s" % (what, leaks))


def check_empty(verdict, path, bill):
    """The import was refused: nothing of the invoice may be left on the bill."""
    if not bill:
        return
    left = [
        name
        for name, value in (
            ("lines", bill.invoice_line_ids),
            ("supplier", bill.partner_id),
            ("reference", bill.ref),
            ("KSeF number", bill.l10n_pl_ksef_number),
            ("file hash", bill.l10n_pl_ksef_invoice_hash),
        )
        if value
    ]
    if left:
        verdict.fail(path, "refused, yet the bill has %s" % ", ".join(left), partial=True)


def judge_upload(env, verdict, case, bill_ids, error, lines, translations):
    path = "upload"
    if error:
        verdict.fail(path, "exception escaped: %s" % error, traceback=True)
        return
    bills = env["account.move"].browse(bill_ids)
    if len(bills) != 1:
        verdict.fail(path, "%d bills for one file" % len(bills), partial=len(bills) > 1)
        return
    if bills.l10n_pl_ksef_invoice_hash:
        check_bill(env, verdict, path, case, bills, lines)
        return
    bodies = [checks.plain(str(message.body or "")) for message in bills.message_ids]
    crashed = [body for body in bodies if GENERIC.search(body)]
    refused = [body.split("not imported:", 1)[1] for body in bodies if "not imported:" in body]
    if crashed:
        verdict.fail(path, "exception reported in the chatter: %r" % crashed[0][:300], traceback=True)
    elif refused:
        check_message(verdict, path, refused[0].strip(), translations)
        if case.expect == "bill":
            verdict.fail(path, "refused a file that must become a bill")
    else:
        verdict.fail(path, "no bill and no message: the upload said nothing")
    check_empty(verdict, path, bills)


def judge_receive(env, verdict, case, number, company_id, lines, translations):
    path = "receive"
    bill = env["account.move"].search([("company_id", "=", company_id), ("l10n_pl_ksef_number", "=", number)])
    failure = (
        env["l10n_pl_ksef.receive.failure"]
        .with_context(active_test=False)
        .search([("company_id", "=", company_id), ("ksef_number", "=", number)])
    )
    if bill and failure:
        verdict.fail(path, "both a bill and a waiting-list entry", partial=True)
    if len(bill) > 1:
        verdict.fail(path, "%d bills for one invoice" % len(bill), partial=True)
    elif bill:
        check_bill(env, verdict, path, case, bill, lines)
    elif failure:
        check_message(verdict, path, failure.reason or "", translations)
        if case.expect == "bill":
            verdict.fail(path, "refused a file that must become a bill")
    else:
        verdict.fail(path, "neither a bill nor a waiting-list entry: the invoice was lost")


def judge_all(env, cases, numbers, run_errors, uploads, receive_id, upload_id):
    translations = checks.Translations()
    digits = env["decimal.precision"].precision_get("Product Price")
    verdicts = []
    receive_company = env["res.company"].browse(receive_id)
    upload_company = env["res.company"].browse(upload_id)
    for index, (case, number, (bill_ids, error)) in enumerate(zip(cases, numbers, uploads, strict=True)):
        if os.environ.get("KSEF_HOSTILE_TRACE"):
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            print("judging %d %s (peak RSS %d MB)" % (index, case.name, rss), file=sys.stderr, flush=True)
        verdict = Verdict()
        lines = expected_lines(case, digits)
        judge_upload(env(context={"allowed_company_ids": upload_company.ids}), verdict, case, bill_ids, error,
                     lines, translations)  # fmt: skip
        judge_receive(env(context={"allowed_company_ids": receive_company.ids}), verdict, case, number, receive_id,
                      lines, translations)  # fmt: skip
        if run_errors:
            verdict.fail("receive", "the import run failed: %s" % run_errors[0][:200], traceback=True)
        verdicts.append(verdict)
    return verdicts


def report(cases, verdicts, elapsed, target, verbose=False):
    """Print the failures and the result line; returns the exit status."""
    shown = 0
    by_category = collections.Counter()
    for case, verdict in zip(cases, verdicts, strict=True):
        if not verdict.problems:
            continue
        by_category[case.category] += 1
        for problem in verdict.problems:
            if verbose or shown < 80:
                print("FAIL %s: %s" % (case.name, problem))
            shown += 1
    if shown > 80 and not verbose:
        print("... %d more failed checks (--verbose shows them all)" % (shown - 80))
    counts = collections.Counter(case.category for case in cases)
    print(
        "categories: %s"
        % ", ".join("%s %d/%d" % (cat, counts[cat] - by_category[cat], counts[cat]) for cat in sorted(counts))
    )
    if SHOWN["rendered"]:
        print(
            "markup: %d bills carrying markup rendered; its text (escaped) found in the visualization of %d, "
            "in the chatter or the bill PDF of %d"
            % (SHOWN["rendered"], SHOWN["in the visualization"], SHOWN["in the chatter or the bill PDF"])
        )
    n = len(cases)
    clear = sum(1 for verdict in verdicts if not verdict.problems)
    tracebacks = sum(1 for verdict in verdicts if verdict.traceback)
    partial = sum(1 for verdict in verdicts if verdict.partial)
    print("runtime: %.0f s (each input on both paths: Upload and receiving)" % elapsed)
    print("hostile: %d inputs, %d clear errors, %d tracebacks, %d partial bills" % (n, clear, tracebacks, partial))
    return 0 if n >= target and clear == n and not tracebacks and not partial else 1
