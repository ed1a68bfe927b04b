"""Receiving against the simulator: metadata query windows, download, export iterator, incremental sync."""

import datetime

import pytest

from ksef_core.client import SyncState

NIP = "5265877635"
SELLER = "1111111111"


@pytest.fixture()
def seeded(simulator, make_invoice):
    """``seeded(n)`` → list of (ksef_number, xml) bought by NIP, acquired 10 s apart in the past."""
    simulator.sim.invoice_store.configure(permanent_storage_delay=0)
    made = []

    def seed(count):
        start = simulator.sim.clock.now() - datetime.timedelta(seconds=10 * count + 10)
        for i in range(count):
            xml = make_invoice(seller_nip=SELLER, buyer_nip=NIP)
            number = simulator.sim.seed_incoming(xml, acquisition_time=start + datetime.timedelta(seconds=10 * i))
            made.append((number, xml))
        return made[-count:]

    return seed


def _filters(days=5):
    return {
        "subjectType": "Subject2",
        "dateRange": {
            "dateType": "PermanentStorage",
            "from": "%s"
            % (
                (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                )
            ),
        },
    }


def test_metadata_query_follows_pages_and_truncation(simulator, make_client, seeded):
    simulator.sim.invoice_store.configure(query_cap=5)
    invoices = seeded(12)
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    numbers = [m["ksefNumber"] for m in client.query_metadata(_filters(), page_size=10)]
    assert sorted(numbers) == sorted(n for n, _x in invoices)  # none missed, none twice
    assert client.download_invoice(invoices[0][0]) == invoices[0][1]


def test_export_iterator_yields_xml_and_metadata(simulator, make_client, seeded):
    simulator.sim.invoice_store.configure(export_max_invoices=4)
    invoices = dict(seeded(6))
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    export = client.export(_filters())
    items = list(export)
    assert len(items) == 4 and export.package.is_truncated
    for item in items:
        assert item.xml == invoices[item.ksef_number]
        assert item.metadata["ksefNumber"] == item.ksef_number and item.metadata["seller"]["nip"] == SELLER
    only_meta = list(client.export(_filters(), only_metadata=True))
    assert only_meta and all(i.xml is None and i.metadata for i in only_meta)


@pytest.mark.parametrize("mode", ["export", "query"])
def test_sync_never_misses_and_never_repeats(simulator, make_client, seeded, mode):
    simulator.sim.invoice_store.configure(export_max_invoices=3, query_cap=4)
    first = seeded(7)
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    start = (simulator.sim.clock.now() - datetime.timedelta(days=1)).isoformat()
    got = []
    # run 1 is interrupted after two invoices; the caller persisted the state on progress
    stored = {}
    sync = client.sync(SyncState("Subject2", start), mode=mode, on_progress=lambda s: stored.update(s.to_dict()))
    for item in sync.run():
        got.append(item.ksef_number)
        if len(got) == 2:
            break
    # run 2 resumes from the stored state (another process)
    got += [
        i.ksef_number
        for i in client.sync(dict(stored), mode=mode, on_progress=lambda s: stored.update(s.to_dict())).run()
    ]
    assert sorted(got) == sorted(n for n, _x in first)
    # new invoices arrive; run 3 returns only them, run 4 nothing
    simulator.sim.clock.advance(5)
    later = seeded(4)
    simulator.sim.clock.advance(5)
    state = SyncState.from_dict(stored)
    third = [i.ksef_number for i in client.sync(state, mode=mode).run()]
    assert sorted(third) == sorted(n for n, _x in later)
    assert list(client.sync(state, mode=mode).run()) == []
