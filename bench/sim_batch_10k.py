"""Benchmark: a 10,000-invoice batch session through the simulator over real HTTP.

Run from the addon root::

    ~/.cache/l10n_pl_ksef/venv/bin/python bench/sim_batch_10k.py [COUNT] [Zip|TarGz]

Prints the time of each stage; the target is "accepted in < 60 s" on a 2-core machine
(from ``POST /sessions/batch`` to the final session status).
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "pure" / "simulator_invoices"))

from siminv_helpers import (  # noqa: E402
    SELLER_NIP,
    Api,
    Batch,
    issue_day,
    make_archive,
    sample_bytes,
    set_clock,
    with_number,
)

from ksef_core.simulator.testing import running_simulator  # noqa: E402


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    kind = sys.argv[2] if len(sys.argv) > 2 else "Zip"
    os.environ.setdefault("KSEF_SPEC_DIR", str(ROOT.parent / "shared" / "ksef-spec"))
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    t0 = time.perf_counter()
    files = [("inv%05d.xml" % n, with_number(xml, "BENCH/%05d" % n)) for n in range(count)]
    archive = make_archive(files, kind)
    t1 = time.perf_counter()
    print("archive: %d invoices, %d bytes %s, built in %.2f s" % (count, len(archive), kind, t1 - t0))
    with running_simulator() as server:
        set_clock(server.sim, issue_day(xml))
        api = Api(server, SELLER_NIP)
        batch = Batch(api, archive, kind=kind, parts=max(1, len(archive) // 5_000_000 + 1))
        t2 = time.perf_counter()
        batch.open()
        batch.upload()
        t3 = time.perf_counter()
        assert batch.close().status_code == 204
        final = api.wait_session(batch.ref, timeout=600)
        t4 = time.perf_counter()
        print("open + upload %d part(s): %.2f s" % (len(batch.encrypted), t3 - t2))
        print("close -> final status %s: %.2f s" % (final["status"]["code"], t4 - t3))
        print(
            "accepted %d, failed %d; total from open to final status: %.2f s"
            % (final["successfulInvoiceCount"], final["failedInvoiceCount"], t4 - t2)
        )
        t5 = time.perf_counter()
        listed = batch.invoices(page_size=1000)
        print("listed %d invoice statuses (pages of 1000) in %.2f s" % (len(listed), time.perf_counter() - t5))


if __name__ == "__main__":
    main()
