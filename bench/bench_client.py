"""Benchmark of the KSeF client (prints figures; no assertions).

1. Client-side work of a batch: hashing, streaming ZIP, splitting and AES encryption of
   N invoices with 20 lines each (default 10 000).  Targets: <= 15 s, <= 300 MB extra peak memory.
2. HTTP requests per 1 000 invoices sent online, sent in a batch and received (export sync and
   query sync), counted by the client's request counter against the simulator.

Usage: python bench/bench_client.py [--invoices 10000] [--sample 200] [--skip-http]
"""

import argparse
import datetime
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ksef_core.client import KsefClient, PollPolicy, SyncState  # noqa: E402
from ksef_core.client.batch import BatchPackage  # noqa: E402
from ksef_core.crypto import new_symmetric_key  # noqa: E402

SPEC = Path(os.environ.get("KSEF_SPEC_DIR", ROOT.parent / "shared" / "ksef-spec"))
SAMPLE = SPEC / "samples" / "fa3" / "official-mf" / "FA_3_Przyklad_1.xml"
NIP = "5265877635"
LINE = (
    "\t\t<FaWiersz>\n\t\t\t<NrWierszaFa>%d</NrWierszaFa>\n\t\t\t<UU_ID>%016d</UU_ID>\n"
    "\t\t\t<P_7>towar %s nr %d</P_7>\n\t\t\t<P_8A>szt.</P_8A>\n\t\t\t<P_8B>%d</P_8B>\n"
    "\t\t\t<P_9A>%d.%02d</P_9A>\n\t\t\t<P_11>%d.%02d</P_11>\n\t\t\t<P_12>23</P_12>\n\t\t</FaWiersz>\n"
)


def sample_invoice(seller=NIP, buyer="1111111111", number="B/1"):
    xml = SAMPLE.read_bytes()
    xml = xml.replace(b"<NIP>1111111111</NIP>", b"<NIP>%s</NIP>" % buyer.encode(), 1)
    xml = xml.replace(b"<NIP>9999999999</NIP>", b"<NIP>%s</NIP>" % seller.encode(), 1)
    return xml.replace(b"<P_2>FV2026/02/150</P_2>", b"<P_2>%s</P_2>" % number.encode())


def twenty_line_invoices(count):
    """Distinct FA(3)-shaped invoices with 20 lines each (the first line block of the sample repeated)."""
    base = SAMPLE.read_bytes().decode("utf-8")
    head, _sep, rest = base.partition("\t\t<FaWiersz>")
    tail = rest[rest.rindex("</FaWiersz>") + len("</FaWiersz>\n") :] if "</FaWiersz>\n" in rest else ""
    for n in range(count):
        lines = "".join(
            LINE % (i + 1, n * 20 + i, "ABCDEFGH"[i % 8] * 3, n, i + 1, 10 + i, n % 100, 10 + i, n % 100)
            for i in range(20)
        )
        text = head.replace("FV2026/02/150", "BENCH/%06d" % n) + lines + tail
        yield ("id-%d" % n, text.encode("utf-8"))


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_package(count):
    started = time.perf_counter()
    generated = sum(len(x) for _i, x in twenty_line_invoices(count))
    gen_seconds = time.perf_counter() - started
    base_rss = rss_mb()
    key, iv = new_symmetric_key()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, BatchPackage(tmp_dir=tmp) as package:
        for own_id, xml in twenty_line_invoices(count):
            package.add(own_id, xml)
        package.finish(key, iv)
        total = time.perf_counter() - started
        print("Batch client-side work for %d invoices of 20 lines (%.1f MB of XML):" % (count, generated / 1e6))
        print("  time incl. generation : %.2f s (generation alone %.2f s)" % (total, gen_seconds))
        print("  client work           : %.2f s   [target <= 15 s]" % (total - gen_seconds))
        print("  ZIP %.1f MB in %d part(s), encrypted" % (package.zip_size / 1e6, len(package.parts)))
        print("  extra peak RSS        : %.1f MB [target <= 300 MB]" % (rss_mb() - base_rss))


def _client(server, **kw):
    return KsefClient(
        custom_api_url=server.base_url,
        nip=NIP,
        ksef_token=server.sim.mint_token(NIP),
        poll_policy=PollPolicy(0.02, 1.5, 0.3, 600),
        clock=server.sim.clock.now,
        **kw,
    )


def per_thousand(counter, n):
    return counter.total * 1000.0 / n


def bench_requests(sample):
    from ksef_core.simulator.testing import running_simulator

    with running_simulator() as server:
        server.sim.invoice_store.configure(permanent_storage_delay=0)
        client = _client(server)
        client.check_connection()

        counter = client.transport.counter()
        started = time.perf_counter()
        client.send_invoices([("o%d" % i, sample_invoice(number="ON/%d" % i)) for i in range(sample)], close=True)
        print("HTTP requests per 1000 invoices:")
        print(
            "  online (send + status poll, %d sent, %.1f s): %.0f  %s"
            % (sample, time.perf_counter() - started, per_thousand(counter, sample), dict(counter.by_key))
        )
        client.transport.counters.remove(counter)

        n_batch = max(sample, 1000)
        counter = client.transport.counter()
        started = time.perf_counter()
        batch = client.send_batch(("b%d" % i, sample_invoice(number="BA/%d" % i)) for i in range(n_batch))
        ok = sum(1 for r in batch.results.values() if r.ok)
        print(
            "  batch  (%d sent, %d ok, %.1f s): %.1f  %s"
            % (
                n_batch,
                ok,
                time.perf_counter() - started,
                per_thousand(counter, n_batch),
                dict(counter.by_key),
            )
        )
        client.transport.counters.remove(counter)

        n_in = sample
        start = server.sim.clock.now() - datetime.timedelta(seconds=n_in + 60)
        for i in range(n_in):
            xml = sample_invoice(seller="1111111111", buyer=NIP, number="IN/%d" % i)
            server.sim.seed_incoming(xml, acquisition_time=start + datetime.timedelta(seconds=i))
        since = (server.sim.clock.now() - datetime.timedelta(days=1)).isoformat()
        for mode in ("export", "query"):
            counter = client.transport.counter()
            started = time.perf_counter()
            got = sum(1 for _item in client.sync(SyncState("Subject2", since), mode=mode).run())
            print(
                "  received via %s sync (%d invoices, %.1f s): %.1f  %s"
                % (mode, got, time.perf_counter() - started, per_thousand(counter, got), dict(counter.by_key))
            )
            client.transport.counters.remove(counter)
        client.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=10000)
    parser.add_argument("--sample", type=int, default=200, help="invoices per HTTP scenario")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    bench_package(args.invoices)
    if not args.skip_http:
        bench_requests(args.sample)


if __name__ == "__main__":
    main()
