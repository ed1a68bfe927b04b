"""Benchmark of the FA(3) engine (prints figures; not a test).

Targets: build + validate a 20-line invoice <= 2 ms (median), parse (with
validation) <= 2 ms (median), 10 000 such invoices built and validated < 30 s.
Usage: python bench/bench_fa3.py [count]
"""

import statistics
import sys
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ksef_core.fa3 import (
    Address,
    BankAccount,
    Invoice,
    Line,
    Party,
    Payment,
    PaymentTerm,
    build_fa3,
    fa3_schema,
    parse_fa3,
)

RATES = ("23", "8", "5", "0 KR", "zw")


def invoice(n, lines=20):
    return Invoice(
        number="FV/%06d/2026" % n,
        issue_date=date(2026, 2, 15),
        created_at=datetime(2026, 2, 15, 9, 30, tzinfo=timezone.utc),
        seller=Party(
            name="ABC AGD sp. z o.o.", nip="5265877635", address=Address("ul. Kwiatowa 1", "00-001 Warszawa")
        ),
        buyer=Party(
            name="F.H.U. Jan Kowalski", nip="1111111111", address=Address("ul. Polna 1", "00-002 Warszawa")
        ),
        lines=[
            Line(
                name="Towar %d" % i,
                quantity=Decimal(i % 7 + 1),
                unit="szt.",
                unit_price=Decimal("%d.%02d" % (10 + i, (n + i) % 100)),
                rate=RATES[i % 4],
                gtin="590123412345%d" % (i % 10),
            )
            for i in range(lines)
        ],
        payment=Payment(
            form=6,
            terms=[PaymentTerm(due_date=date(2026, 3, 1))],
            accounts=[BankAccount("73111111111111111111111111")],
        ),
    )


def median_ms(func, repeat):
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    t0 = time.perf_counter()
    fa3_schema()
    print("schema compile (once per process): %.1f ms" % ((time.perf_counter() - t0) * 1000))
    inv = invoice(1)
    xml = build_fa3(inv)
    print("20-line invoice: %d bytes" % len(xml))
    print(
        "build + XSD validate, median of 300: %.3f ms (target <= 2 ms)"
        % median_ms(lambda: build_fa3(inv), 300)
    )
    print(
        "build only, median of 300:           %.3f ms"
        % median_ms(lambda: build_fa3(inv, validate=False), 300)
    )
    print(
        "parse + XSD validate, median of 300: %.3f ms (target <= 2 ms)"
        % median_ms(lambda: parse_fa3(xml), 300)
    )
    print(
        "parse only, median of 300:           %.3f ms"
        % median_ms(lambda: parse_fa3(xml, validate=False), 300)
    )
    models = [invoice(n) for n in range(count)]
    t0 = time.perf_counter()
    total = 0
    for model in models:
        total += len(build_fa3(model))
    elapsed = time.perf_counter() - t0
    print(
        "%d invoices built + validated: %.2f s (target < 30 s), %.0f invoices/s, %.1f MB"
        % (count, elapsed, count / elapsed, total / 1e6)
    )


if __name__ == "__main__":
    main()
