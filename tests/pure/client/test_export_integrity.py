"""The client's export download relies only on what the API promises.

* a part download's ``x-ms-meta-hash`` (Base64 SHA-256 of the encrypted part) is checked when present:
  a part changed in transit, or a wrong header, is refused with a clear bilingual error;
* ``package.compressionType`` is read (``TarGz`` is unpacked as tar.gz; absent = Zip);
* the incremental sync needs ``lastPermanentStorageDate`` only on a truncated package and copes with a null
  ``permanentStorageHwmDate``.
"""

import datetime

import pytest
from requests.structures import CaseInsensitiveDict

from ksef_core.client import SyncState
from ksef_core.client.errors import KsefIntegrityError
from ksef_core.client.receiving import ExportPackage
from ksef_core.client.sync import InvoiceSync
from ksef_core.client.tokens import parse_datetime
from ksef_core.hashing import sha256_b64

NIP = "5265877635"
SELLER = "1111111111"
STORAGE = "/_storage/export/"  # the simulator's pre-signed part URLs


@pytest.fixture()
def seeded(simulator, make_invoice):
    """``seeded(n)`` → {ksef_number: xml} bought by NIP, stored in the past."""
    simulator.sim.invoice_store.configure(permanent_storage_delay=0)
    start = simulator.sim.clock.now() - datetime.timedelta(minutes=5)

    def seed(count):
        made = {}
        for i in range(count):
            xml = make_invoice(seller_nip=SELLER, buyer_nip=NIP)
            made[simulator.sim.seed_incoming(xml, acquisition_time=start + datetime.timedelta(seconds=i))] = xml
        return made

    return seed


def _filters():
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=5)
    return {"subjectType": "Subject2", "dateRange": {"dateType": "PermanentStorage", "from": start.isoformat()}}


class _InTransit:
    """What reaches the client of a streamed part download, as changed on the way."""

    def __init__(self, response, body, headers):
        self.status_code = response.status_code
        self.headers = headers
        self._body = body

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def iter_content(self, size):
        for start in range(0, len(self._body), size):
            yield self._body[start : start + size]


def _intercept(client, part=None, export_body=None):
    """Wrap the client's transport: ``part(body, headers)`` rewrites part downloads, ``export_body`` the request."""
    real = client.transport.request
    seen = []

    def request(method, path, *args, **kw):
        if export_body and method == "POST" and path == "/invoices/exports":
            kw["json_body"] = dict(kw["json_body"], **export_body)
        response = real(method, path, *args, **kw)
        if STORAGE not in path:
            return response
        with response:
            body, headers = response.content, CaseInsensitiveDict(response.headers)
        seen.append(headers.get("x-ms-meta-hash"))
        if part is not None:
            body, headers = part(body, headers)
        return _InTransit(response, body, headers)

    client.transport.request = request
    return seen


def _flip_last_byte(body, headers):
    return body[:-1] + bytes([body[-1] ^ 0x01]), headers


def _wrong_header(body, headers):
    headers["x-ms-meta-hash"] = sha256_b64(b"another part")
    return body, headers


def _no_header(body, headers):
    headers.pop("x-ms-meta-hash", None)
    return body, headers


@pytest.mark.parametrize("change", [_flip_last_byte, _wrong_header], ids=["part-changed", "hash-wrong"])
def test_a_part_that_does_not_match_x_ms_meta_hash_is_refused(simulator, make_client, seeded, change):
    seeded(2)
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    seen = _intercept(client, part=change)
    with pytest.raises(KsefIntegrityError) as err:
        list(client.export(_filters()))
    assert seen and all(seen)  # the simulator sent the header
    assert err.value.details["check"] == "x-ms-meta-hash" and err.value.details["part"] == 1
    assert err.value.message_en == (
        "The downloaded export part 1 does not match the hash KSeF announced: download it again."
    )
    assert err.value.message_pl == (
        "Pobrany fragment eksportu nr 1 nie zgadza się ze skrótem podanym przez KSeF: pobierz go ponownie."
    )


def test_parts_with_and_without_the_header_are_accepted(simulator, make_client, seeded):
    invoices = seeded(3)
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    seen = _intercept(client)
    assert {i.ksef_number: i.xml for i in client.export(_filters())} == invoices
    assert seen and all(seen)
    other = make_client(simulator, simulator.sim.mint_token(NIP))
    _intercept(other, part=_no_header)  # the header is optional to the client (older API versions)
    assert {i.ksef_number: i.xml for i in other.export(_filters())} == invoices


def test_a_targz_package_is_unpacked_as_its_compression_type_says(simulator, make_client, seeded):
    invoices = seeded(3)
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    _intercept(client, export_body={"compressionType": "TarGz"})
    export = client.export(_filters())
    items = list(export)
    assert export.package.compression_type == "TarGz"
    assert {i.ksef_number: i.xml for i in items} == invoices
    assert all(i.metadata["ksefNumber"] == i.ksef_number for i in items)
    assert ExportPackage("ref", {"parts": []}).compression_type == "Zip"  # absent before API 2.9.0


# -- incremental sync over a package that carries only what the contract promises -----------------------------------
class _Export:
    def __init__(self, items, package):
        self.items, self.package = items, ExportPackage("ref", package)


class _Item:
    def __init__(self, number, stored):
        self.ksef_number, self.xml = number, b"<x/>"
        self.metadata = {"ksefNumber": number, "permanentStorageDate": stored}


class _Client:
    """Receiving that hands out prepared packages, one per export started."""

    def __init__(self, now, windows):
        self.clock = lambda: now
        self.receiving = self
        self.windows = list(windows)
        self.requested = []
        self.started = {}

    def start_export(self, filters, key, iv):
        self.requested.append(filters["dateRange"]["from"])
        reference = "ref-%d" % len(self.requested)
        self.started[reference] = self.windows.pop(0) if self.windows else _Export([], {"isTruncated": False})
        return reference

    def wait_export(self, reference):
        return self.started[reference].package

    def read_package(self, package, key, iv):
        export = next(e for e in self.started.values() if e.package is package)
        yield from export.items


def test_sync_needs_no_last_date_on_a_whole_package_and_copes_with_a_null_hwm():
    now = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.timezone.utc)
    first, second = "2026-03-01T10:00:00+00:00", "2026-03-01T11:00:00+00:00"
    windows = [
        # truncated: lastPermanentStorageDate is promised; a package without it still does not skip invoices
        _Export([_Item("A", first)], {"isTruncated": True, "permanentStorageHwmDate": None}),
        # whole package: no last date (the contract), HWM null (nullable): continue from the last invoice
        _Export([_Item("B", second)], {"isTruncated": False, "permanentStorageHwmDate": None}),
    ]
    client = _Client(now, windows)
    start = "2026-03-01T09:00:00+00:00"
    state = SyncState("Subject2", start)
    got = [i.ksef_number for i in InvoiceSync(client, state).run()]
    assert got == ["A", "B"]
    assert [parse_datetime(d) for d in client.requested] == [parse_datetime(start), parse_datetime(first)]
    assert parse_datetime(state.date_from) == parse_datetime(second)


def test_sync_stops_on_a_truncated_package_that_names_no_date():
    now = datetime.datetime(2026, 9, 1, 12, tzinfo=datetime.timezone.utc)
    start = "2026-03-01T09:00:00+00:00"  # more than 90 days ago: the window has an end it must not jump to
    client = _Client(now, [_Export([], {"isTruncated": True})])
    state = SyncState("Subject2", start)
    assert list(InvoiceSync(client, state).run()) == []
    assert parse_datetime(state.date_from) == parse_datetime(start)  # read again next time
    assert len(client.requested) == 1


def test_a_part_the_simulator_damages_in_transit_is_refused_then_downloaded_again(simulator, make_client, seeded):
    invoices = seeded(2)
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    simulator.sim.faults.corrupt("/export/*", method="GET")
    with pytest.raises(KsefIntegrityError) as err:
        list(client.export(_filters()))
    assert err.value.details["part"] == 1
    assert "download it again" in err.value.message_en
    assert simulator.sim.faults.list() == []
    again = make_client(simulator, simulator.sim.mint_token(NIP))
    assert {i.ksef_number: i.xml for i in again.export(_filters())} == invoices
