"""The incremental sync resumes a started export instead of starting a new one (KSeF allows 20 an hour), moves
its window to the last invoice handed out, and hands out invoices it cannot deliver with their reason."""

import datetime
import json
import zipfile

import pytest

from ksef_core.client import PollPolicy, SyncState
from ksef_core.client import receiving as receiving_module
from ksef_core.client.errors import KsefTimeout
from ksef_core.client.receiving import _package_invoices, _ZipArchive
from ksef_core.client.tokens import parse_datetime
from ksef_core.errors import XmlInputError

NIP = "5265877635"
SELLER = "1111111111"


@pytest.fixture()
def seeded(simulator, make_invoice):
    """``seeded(n)`` → KSeF numbers of ``n`` invoices bought by NIP, in the order KSeF stored them."""
    simulator.sim.invoice_store.configure(permanent_storage_delay=0)

    def seed(count):
        return [simulator.sim.seed_incoming(make_invoice(seller_nip=SELLER, buyer_nip=NIP)) for _i in range(count)]

    return seed


class Runs:
    """Runs of the sync in separate "processes" (a new client each), the state kept as its dict in between."""

    def __init__(self, simulator, make_client, start):
        self.simulator, self.make_client = simulator, make_client
        self.stored = SyncState("Subject2", start).to_dict()
        self.token = simulator.sim.mint_token(NIP)
        self.refs_before = set(simulator.sim.invoice_store.exports)

    def run(self, limit=None, **client_options):
        """Numbers handed out by one run that stops after ``limit`` invoices (None: until the end)."""
        client = self.make_client(self.simulator, self.token, **client_options)
        got = []
        items = client.sync(dict(self.stored), on_progress=lambda s: self.stored.update(s.to_dict())).run()
        try:
            for item in items:
                got.append(item.ksef_number)
                if limit and len(got) >= limit:
                    break
        finally:
            items.close()
        return got

    def exported(self):
        """invoiceCount of each export the simulator made for these runs, oldest first."""
        store = self.simulator.sim.invoice_store
        exports = sorted(
            (e for ref, e in store.exports.items() if ref not in self.refs_before), key=lambda e: e["dateCreated"]
        )
        return [e["package"]["invoiceCount"] if e.get("package") else None for e in exports]


def _start(simulator):
    return (simulator.sim.clock.now() - datetime.timedelta(days=1)).isoformat()


def _stored_at(simulator, number):
    return simulator.sim.invoice_store.invoices[number]["permanentStorageDate"]


def test_a_stopped_run_leaves_the_window_at_the_last_invoice_and_the_next_resumes_the_export(
    simulator, make_client, seeded
):
    numbers = seeded(7)
    runs = Runs(simulator, make_client, _start(simulator))
    got = runs.run(limit=3)
    assert got == numbers[:3]  # ascending by permanent-storage date
    assert parse_datetime(runs.stored["date_from"]) == _stored_at(simulator, numbers[2])
    assert runs.stored["seen"] == {numbers[2]: runs.stored["seen"][numbers[2]]}
    export = runs.stored["export"]
    assert export["reference"] and export["key"] and export["iv"]
    assert export["filters"]["subjectType"] == "Subject2"
    # the part URLs of the first status expire before the next run: it asks for the status again
    simulator.sim.invoice_store.configure(url_ttl=30)
    simulator.sim.clock.advance(60)
    got += runs.run(limit=3)
    got += runs.run()
    assert got == numbers  # each once, none missed
    assert runs.exported() == [7]  # one export, resumed twice
    assert runs.stored["export"] is None
    assert runs.run() == [] and len(runs.exported()) == 2  # the next run starts a new export, finds nothing


def test_an_expired_export_is_replaced_by_one_starting_at_the_last_invoice_handed_out(simulator, make_client, seeded):
    numbers = seeded(7)
    simulator.sim.invoice_store.configure(export_package_ttl=60)
    runs = Runs(simulator, make_client, _start(simulator))
    got = []
    for _run in range(4):
        got += runs.run(limit=2)
        simulator.sim.clock.advance(120)  # the package expires (status 210) before every next run
    assert got == numbers
    # without the window moving, every export would hold all 7 again
    assert runs.exported() == [7, 6, 4, 2]


def test_an_export_whose_status_is_gone_is_replaced(simulator, make_client, seeded):
    numbers = seeded(3)
    runs = Runs(simulator, make_client, _start(simulator))
    got = runs.run(limit=1)
    simulator.sim.clock.advance(8 * 24 * 3600)  # the status is kept 7 days, then 410 Gone
    got += runs.run()
    assert got == numbers
    assert runs.exported() == [3, 3]


def test_an_export_still_being_prepared_when_the_run_gives_up_is_polled_again_by_the_next_run(
    simulator, make_client, seeded
):
    numbers = seeded(2)
    store = simulator.sim.invoice_store
    store.configure(export_pending_polls=1000)
    runs = Runs(simulator, make_client, _start(simulator))
    impatient = PollPolicy(initial=0.01, factor=1.0, max_delay=0.01, timeout=0.05)
    with pytest.raises(KsefTimeout):
        runs.run(poll_policy=impatient)
    assert runs.stored["export"]["reference"]
    store.configure(export_pending_polls=0)
    assert runs.run() == numbers
    assert runs.exported() == [2]


def test_a_remembered_export_that_does_not_fit_the_position_is_not_used(simulator, make_client, seeded):
    numbers = seeded(2)
    runs = Runs(simulator, make_client, _start(simulator))
    runs.run(limit=1)
    runs.stored["date_from"] = _start(simulator)  # moved back before the export's start (e.g. restored by hand)
    runs.stored["export"]["filters"]["dateRange"]["from"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    runs.stored["seen"] = {}
    assert runs.run() == numbers
    assert runs.exported() == [2, 2]


# -- invoices that cannot be handed over come out with their reason ----------------------------------------------------
def _archive(tmp_path, files, metadata):
    path = tmp_path / "package.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("_metadata.json", json.dumps({"invoices": metadata}))
    return _ZipArchive(str(path))


def test_package_invoices_come_ascending_and_a_missing_or_too_large_file_comes_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(receiving_module, "MAX_INVOICE_BYTES", 100)
    metadata = [
        {"ksefNumber": "B", "permanentStorageDate": "2026-03-01T10:00:02.5+00:00"},
        {"ksefNumber": "A", "permanentStorageDate": "2026-03-01T11:00:01+01:00"},  # 10:00:01 UTC
        {"ksefNumber": "C", "permanentStorageDate": "2026-03-01T10:00:03Z"},
        {"ksefNumber": "D", "permanentStorageDate": "2026-03-01T10:00:04Z"},
    ]
    files = {"A.xml": b"<a/>", "B.xml": b"<b>%s</b>" % (b"x" * 200), "D.xml": b"<d/>", "E.xml": b"<e/>"}
    archive = _archive(tmp_path, files, metadata)
    try:
        items = list(_package_invoices(archive, only_metadata=False))
    finally:
        archive.close()
    assert [i.ksef_number for i in items] == ["A", "B", "C", "D", "E"]  # E: a file the metadata does not name
    by_number = {i.ksef_number: i for i in items}
    assert (by_number["A"].xml, by_number["A"].problem) == (b"<a/>", None)
    too_large = by_number["B"].problem
    assert by_number["B"].xml is None and too_large.code == "invoice_too_large"
    assert "larger than 100 B" in too_large.message_en and "większy niż 100 B" in too_large.message_pl
    missing = by_number["C"].problem
    assert by_number["C"].xml is None and missing.code == "export_file_missing"
    assert "without its file" in missing.message_en and "bez jej pliku" in missing.message_pl
    assert by_number["E"].metadata == {} and by_number["E"].xml == b"<e/>"


def test_a_download_by_number_larger_than_the_limit_is_refused_with_the_same_reason(
    simulator, make_client, seeded, monkeypatch
):
    (number,) = seeded(1)
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    assert client.download_invoice(number).startswith(b"<?xml")
    monkeypatch.setattr(receiving_module, "MAX_INVOICE_BYTES", 500)
    with pytest.raises(XmlInputError) as err:
        client.download_invoice(number)
    assert err.value.code == "invoice_too_large"
    assert err.value.bilingual() == receiving_module.too_large_error(500).bilingual()


def test_query_mode_hands_out_a_too_large_invoice_with_its_reason(simulator, make_client, seeded, monkeypatch):
    numbers = seeded(2)
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    monkeypatch.setattr(receiving_module, "MAX_INVOICE_BYTES", 500)
    items = list(client.sync(SyncState("Subject2", _start(simulator)), mode="query").run())
    assert [i.ksef_number for i in items] == numbers
    assert all(i.xml is None and i.problem.code == "invoice_too_large" for i in items)
