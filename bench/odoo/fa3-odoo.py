"""FA(3) documents of posted invoices inside Odoo: l10n_pl_ksef against Odoo's own l10n_pl_edi.

Run with ``bash scripts/bench.sh fa3-odoo [--invoices N] [--lines N]`` (defaults 200 and 20).

Sets up a Polish company (Polish chart, KSeF enabled), a Polish customer and 20 products,
creates N customer invoices of M lines (23 % and 8 % alternately) in one ``create`` and posts
them in one ``action_post``; then times, on the same posted invoices:

A. ours: ``moves._l10n_pl_ksef_fa3_documents()`` (one call for all invoices; returns
   ``{move.id: result}``, each result with ``.xml`` (bytes, None when invalid) and ``.problems``);
B. l10n_pl_edi: ``move._l10n_pl_edi_render_xml()`` per invoice plus validation against the
   FA(3) XSD (loaded once, before the clock starts).

Before each measurement the record cache is flushed and invalidated and the invoices are
browsed again, so every read of the invoices, lines, partners, taxes... is measured and
counted (``cr.sql_log_count``). Code-level caches (compiled QWeb template, ormcaches,
schemas) are warmed first by one untimed call on the first invoice: both sides are measured
in the steady state of a running server. Nothing is committed.

Last line: ``fa3-odoo: ours X inv/s, l10n_pl_edi Y inv/s, ratio Z, queries/invoice Q`` (Z = X / Y,
Q = our SQL queries per invoice). Exit status 1 when one of our documents failed.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from lxml import etree

from odoo import Command, fields

ROOT = Path(__file__).resolve().parents[2]
# l10n_pl_edi's own data/fa3_schema.xsd imports StrukturyDanych_v10-0E.xsd from
# http://crd.gov.pl/..., which lxml does not (and a benchmark must not) fetch. Our shipped copy
# of the official FA(3) schema is the same file with that import pointing at the local copy
# (the only other difference is trailing whitespace in one xsd:documentation), so
# l10n_pl_edi's output is validated against ours.
FA3_XSD = ROOT / "data" / "xsd" / "fa3" / "schemat_FA(3)_v1-0E.xsd"
OUR_METHOD = "_l10n_pl_ksef_fa3_documents"
SHOW_FAILURES = 5
MISSING = (
    "fa3-odoo: account.move has no %s() yet: l10n_pl_ksef must provide it (records -> {move.id: result "
    "with .xml (bytes, None when invalid) and .problems (list)}); only l10n_pl_edi was measured."
)


def parse_args(args):
    parser = argparse.ArgumentParser(prog="bash scripts/bench.sh fa3-odoo", description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=200, help="number of invoices (default 200)")
    parser.add_argument("--lines", type=int, default=20, help="lines per invoice (default 20)")
    options = parser.parse_args(args)
    if options.invoices < 1 or options.lines < 1:
        parser.error("--invoices and --lines must be at least 1")
    return options


def setup_company(env):
    """A Polish company with the Polish chart and KSeF enabled; returns an env working in it."""
    poland = env.ref("base.pl")
    pln = env.ref("base.PLN")
    pln.active = True
    # install_mode: creating a company of a new country would otherwise install that country's
    # extra modules (account_peppol for Poland) with button_immediate_install, which commits and
    # reloads the registry in the middle of the benchmark.
    companies = env["res.company"].with_context(install_mode=True)
    company = companies.create(
        {
            "name": "Benchmark FA3 sp. z o.o.",
            "country_id": poland.id,
            "currency_id": pln.id,
            "vat": "PL5265877635",
            "street": "ul. Kwiatowa 1",
            "city": "Warszawa",
            "zip": "00-001",
        }
    )
    env.user.company_ids |= company
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    env["account.chart.template"].try_loading("pl", company, install_demo=False)
    company.l10n_pl_ksef_active = True
    return env, env.company


def connect_to_simulator(env, company, srv, permissions):
    """Give ``company`` a KSeF token of the simulator ``srv`` with ``permissions``, through the setup
    wizard as an administrator would."""
    nip = company.l10n_pl_ksef_nip or company.vat[2:]
    token = srv.sim.mint_token(nip, tuple(permissions))
    wizard = env["l10n_pl_ksef.setup.wizard"].create(
        {
            "company_id": company.id,
            "step": "credentials",
            "environment": "custom",
            "custom_url": srv.base_url,
            "auth_method": "token",
            "token": token,
        }
    )
    wizard.action_save_credentials()
    if wizard.step != "done":
        raise RuntimeError("the setup wizard did not accept the simulator's token (step %s)" % wizard.step)
    return nip


def invoice_vals(env, count, lines):
    chart = env["account.chart.template"].with_company(env.company)
    taxes = (chart.ref("vs_kraj_23"), chart.ref("vs_kraj_8"))
    customer = env["res.partner"].create(
        {
            "name": "Hurtownia Odbiorca S.A.",
            "is_company": True,
            "vat": "PL7680002466",
            "street": "ul. Polna 12",
            "city": "Kraków",
            "zip": "30-001",
            "country_id": env.ref("base.pl").id,
        }
    )
    products = env["product.product"].create(
        [{"name": "Towar %02d" % i, "type": "consu", "list_price": 10 + i} for i in range(20)]
    )
    today = fields.Date.context_today(env.user)
    return [
        {
            "move_type": "out_invoice",
            "partner_id": customer.id,
            "invoice_date": today,
            "invoice_line_ids": [
                Command.create(
                    {
                        "product_id": products[(n + i) % len(products)].id,
                        "quantity": i % 5 + 1,
                        "price_unit": 10 + (7 * n + 13 * i) % 990 + 0.25 * (i % 4),
                        "tax_ids": [Command.set(taxes[i % 2].ids)],
                    }
                )
                for i in range(lines)
            ],
        }
        for n in range(count)
    ]


def measured(env, ids, call):
    """(result, seconds, queries) of call(moves) on freshly browsed moves with an empty cache."""
    env.invalidate_all()  # flushes first
    moves = env["account.move"].browse(ids)  # a new recordset: the prefetch set is all of ids
    queries = env.cr.sql_log_count
    start = time.perf_counter()
    result = call(moves)
    seconds = time.perf_counter() - start
    return result, seconds, env.cr.sql_log_count - queries


def ours(moves):
    """(documents, {move.id: problem} of the invoices without a valid document)."""
    if os.environ.get("KSEF_BENCH_PROFILE"):  # where our time goes, on stderr (slows the run down)
        import cProfile
        import pstats

        profile = cProfile.Profile()
        documents = profile.runcall(getattr(moves, OUR_METHOD))
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    else:
        documents = getattr(moves, OUR_METHOD)()
    if not isinstance(documents, dict):
        raise TypeError("%s() returned %s, not a dict {move.id: result}" % (OUR_METHOD, type(documents).__name__))
    failures = {}
    for move_id in moves.ids:
        result = documents.get(move_id)
        if result is None:
            failures[move_id] = "no result for this invoice"
        elif not result.xml or result.problems:
            failures[move_id] = "; ".join(map(describe, result.problems or ["no XML and no problem given"]))
    return documents, failures


def describe(problem):
    """One problem as text (the addon's problems have .line(), in English first)."""
    return problem.line() if callable(getattr(problem, "line", None)) else str(problem)


def check_schema(schema, documents, failures):
    """Untimed cross-check: every document our method calls valid must pass the FA(3) XSD too."""
    for move_id, result in documents.items():
        if move_id in failures:
            continue
        if not isinstance(result.xml, bytes):
            failures[move_id] = ".xml is %s, not bytes" % type(result.xml).__name__
            continue
        try:
            valid = schema.validate(etree.fromstring(result.xml))
        except etree.XMLSyntaxError as error:
            failures[move_id] = "not well-formed XML: %s" % error
            continue
        if not valid:
            failures[move_id] = "not valid against the FA(3) XSD: " + "; ".join(map(str, schema.error_log[:3]))


def edi(schema):
    def render(moves):
        failures = {}
        for move in moves:
            xml = move._l10n_pl_edi_render_xml()
            if isinstance(xml, str):
                xml = xml.encode()
            if not schema.validate(etree.fromstring(xml)):
                failures[move.id] = "; ".join(map(str, schema.error_log[:3]))
        return failures

    return render


def report(env, label, count, seconds, queries, failures):
    print(
        "%s: %d invoices in %.3f s = %.1f inv/s, %.2f ms/invoice, %d queries = %.1f/invoice, %d failed"
        % (label, count, seconds, count / seconds, 1000 * seconds / count, queries, queries / count, len(failures))
    )
    for move_id, problem in list(failures.items())[:SHOW_FAILURES]:
        print("  %s failed on %s: %s" % (label, env["account.move"].browse(move_id).name, problem[:500]))


def run(env, args):
    options = parse_args(args)
    env, company = setup_company(env)
    has_ours = hasattr(env["account.move"], OUR_METHOD)
    schema = etree.XMLSchema(etree.parse(str(FA3_XSD)))

    start = time.perf_counter()
    moves = env["account.move"].create(invoice_vals(env, options.invoices, options.lines))
    created = time.perf_counter() - start
    start = time.perf_counter()
    moves.action_post()
    posted = time.perf_counter() - start
    print(
        "setup: company %s (chart %s), %d invoices x %d lines created in %.1f s, posted in %.1f s"
        % (company.name, company.chart_template, len(moves), options.lines, created, posted)
    )
    ids = moves.ids

    if has_ours:
        ours(moves[:1])
        (documents, failures_a), seconds_a, queries_a = measured(env, ids, ours)
        check_schema(schema, documents, failures_a)
    edi(schema)(moves[:1])
    failures_b, seconds_b, queries_b = measured(env, ids, edi(schema))

    count = len(ids)
    if has_ours:
        report(env, "ours (l10n_pl_ksef)", count, seconds_a, queries_a, failures_a)
    report(env, "l10n_pl_edi (render + XSD)", count, seconds_b, queries_b, failures_b)
    if not has_ours:
        raise SystemExit(MISSING % OUR_METHOD)

    ours_rate, edi_rate = count / seconds_a, count / seconds_b
    print(
        "fa3-odoo: ours %.1f inv/s, l10n_pl_edi %.1f inv/s, ratio %.1f, queries/invoice %.1f"
        % (ours_rate, edi_rate, ours_rate / edi_rate, queries_a / count)
    )
    return 1 if failures_a else 0
