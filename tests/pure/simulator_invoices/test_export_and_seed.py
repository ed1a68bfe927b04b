"""Export round trip (encrypted parts, _metadata.json) and seeding with incoming invoices."""

import datetime as dt
import io
import json
import tarfile
import zipfile

import pytest
import requests
from siminv_helpers import (
    BUYER_NIP,
    SAMPLES,
    SELLER_NIP,
    aes_decrypt,
    issue_day,
    official_samples,
    sample_bytes,
    set_clock,
    sha,
    with_number,
)

from ksef_core.errors import InputError
from ksef_core.ksef_number import is_valid_ksef_number


def _export(api, filters, **extra):
    key, iv, info = api.encryption()
    resp = api.post("/invoices/exports", dict({"encryption": info, "filters": filters}, **extra))
    assert resp.status_code == 201, resp.text
    status = api.get("/invoices/exports/%s" % resp.json()["referenceNumber"])
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["status"]["code"] == 200, body
    package = body["package"]
    plain = b""
    for part in sorted(package["parts"], key=lambda p: p["ordinalNumber"]):
        data = requests.get(part["url"]).content  # pre-signed: no bearer
        assert len(data) == part["encryptedPartSize"] and sha(data) == part["encryptedPartHash"]
        chunk = aes_decrypt(key, iv, data)
        assert len(chunk) == part["partSize"] and sha(chunk) == part["partHash"]
        plain += chunk
    assert len(plain) == package["size"]
    return package, plain


def _seed_many(sim, count, start):
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    return [
        sim.seed_incoming(with_number(xml, "E/%03d" % n), acquisition_time=start + dt.timedelta(minutes=n))
        for n in range(count)
    ]


def test_back_dated_seeds_get_distinct_increasing_storage_dates(simulator):
    sim = simulator.sim
    set_clock(sim, dt.date(2026, 3, 1))
    numbers = _seed_many(sim, 20, sim.clock.now() - dt.timedelta(days=2))
    dates = [sim.invoice_store.invoices[n]["permanentStorageDate"] for n in numbers]
    assert dates == sorted(set(dates))  # strictly increasing, never below the HWM already reported
    assert all(d >= sim.invoice_store.invoices[n]["acquisitionDate"] for n, d in zip(numbers, dates, strict=True))


@pytest.mark.parametrize("kind", ["Zip", "TarGz"])
def test_export_round_trip(simulator, buyer, kind):
    sim = simulator.sim
    set_clock(sim, dt.date(2026, 3, 1))
    start = sim.clock.now() - dt.timedelta(days=2)
    numbers = _seed_many(sim, 5, start)
    sim.invoice_store.configure(export_part_size=1500)  # force several parts
    filters = {
        "subjectType": "Subject2",
        "dateRange": {"dateType": "PermanentStorage", "from": start.isoformat()},
    }
    package, plain = _export(buyer, filters, compressionType=kind)
    assert len(package["parts"]) > 1
    assert package["invoiceCount"] == 5 and package["isTruncated"] is False
    if kind == "Zip":
        with zipfile.ZipFile(io.BytesIO(plain)) as zf:
            files = {n: zf.read(n) for n in zf.namelist()}
    else:
        with tarfile.open(fileobj=io.BytesIO(plain), mode="r:gz") as tar:
            files = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    assert set(files) == {"%s.xml" % n for n in numbers} | {"_metadata.json"}
    meta = json.loads(files["_metadata.json"])["invoices"]
    assert [m["ksefNumber"] for m in meta] == numbers
    for m in meta:
        assert sha(files["%s.xml" % m["ksefNumber"]]) == m["invoiceHash"]


def test_export_truncation_and_continuation(simulator, buyer):
    sim = simulator.sim
    set_clock(sim, dt.date(2026, 3, 1))
    start = sim.clock.now() - dt.timedelta(days=2)
    numbers = _seed_many(sim, 7, start)
    sim.invoice_store.configure(export_max_invoices=4)
    filters = {
        "subjectType": "Subject2",
        "dateRange": {"dateType": "PermanentStorage", "from": start.isoformat()},
    }
    package, _ = _export(buyer, filters, onlyMetadata=True)
    assert package["isTruncated"] is True and package["invoiceCount"] == 4
    assert package["permanentStorageHwmDate"]
    filters["dateRange"]["from"] = package["lastPermanentStorageDate"]
    package2, plain = _export(buyer, filters, onlyMetadata=True)
    assert package2["isTruncated"] is False
    with zipfile.ZipFile(io.BytesIO(plain)) as zf:
        assert zf.namelist() == ["_metadata.json"]
        rest = [m["ksefNumber"] for m in json.loads(zf.read("_metadata.json"))["invoices"]]
    assert rest == numbers[3:]  # the boundary record comes again: dedupe by ksefNumber


def test_unknown_export_is_21175(simulator, buyer):
    resp = buyer.get("/invoices/exports/20260101-EH-0000000000-0000000000-00")
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21175


def test_seed_from_dir_makes_samples_visible_to_the_buyer(simulator, buyer):
    sim = simulator.sim
    set_clock(sim, dt.date(2026, 4, 1))
    results = sim.seed_from_dir(SAMPLES / "official-mf")
    assert [r["file"] for r in results] == official_samples()
    assert all(r["error"] is None and is_valid_ksef_number(r["ksefNumber"]) for r in results)
    # 1, 9 and 22 share seller + VAT + P_2: seeding returns the first one's number for the others
    distinct = {r["ksefNumber"] for r in results}
    assert len(distinct) == 4
    start = sim.clock.now() - dt.timedelta(days=30)
    filters = {"subjectType": "Subject2", "dateRange": {"dateType": "Invoicing", "from": start.isoformat()}}
    found = buyer.query(filters, pageSize=50).json()["invoices"]
    # every distinct seeded invoice names 1111111111 as the buyer
    assert {m["ksefNumber"] for m in found} == distinct
    assert all(m["seller"]["nip"] == SELLER_NIP for m in found)
    resp = buyer.get("/invoices/ksef/%s" % results[0]["ksefNumber"])
    assert resp.status_code == 200 and resp.content == sample_bytes(results[0]["file"])


def test_seed_incoming_controls_dates_and_refuses_bad_invoices(simulator):
    sim = simulator.sim
    set_clock(sim, dt.date(2026, 6, 1))
    xml = sample_bytes("FA_3_Przyklad_15.xml")
    when = dt.datetime(2026, 5, 20, 9, 30, tzinfo=dt.timezone.utc)
    number = sim.seed_incoming(xml, acquisition_time=when, issue_date=dt.date(2026, 5, 19))
    assert number.split("-")[1] == "20260520"
    record = sim.invoice_store.invoices[number]
    assert record["issueDate"] == "2026-05-19"
    assert record["acquisitionDate"] == when and record["permanentStorageDate"] > when
    assert record["buyer"]["identifier"] == {"type": "Nip", "value": BUYER_NIP}
    with pytest.raises(InputError) as err:
        sim.seed_incoming(b"\xef\xbb\xbf" + xml)
    assert "450" in err.value.message_en and "450" in err.value.message_pl
    day = issue_day(xml)
    with pytest.raises(InputError) as err:
        sim.seed_incoming(with_number(xml, "X/1"), acquisition_time=day - dt.timedelta(days=1))
    assert err.value.details["elements"] == ["Fa/P_1"]
    assert "X/1" not in str(err.value)  # no invoice contents in exception messages


def test_running_simulator_seed_dir_option_seeds_through_the_hook():
    from ksef_core.simulator.testing import running_simulator

    with running_simulator(seed_dir=str(SAMPLES / "official-mf"), clock_start="2026-04-01T08:00:00Z") as server:
        records = server.sim.invoice_store.invoices.values()
        assert len(records) == 4  # six samples, two of them duplicates of sample 1
        assert {r["seller"]["nip"] for r in records} == {SELLER_NIP}


def test_seed_raw_hands_the_buyer_exactly_the_bytes_stored(simulator, buyer):
    """TEST-ONLY raw seeding: files KSeF would refuse reach the buyer's query, download and export as stored."""
    sim = simulator.sim
    set_clock(sim, dt.date(2026, 3, 1))
    sim.invoice_store.configure(permanent_storage_delay=0)
    start = sim.clock.now() - dt.timedelta(minutes=5)
    hostile = [
        b'<?xml version="1.0"?><!DOCTYPE Faktura [<!ENTITY x SYSTEM "file:///etc/passwd">]><Faktura>&x;</Faktura>',
        b"\xef\xbb\xbf" + sample_bytes("FA_3_Przyklad_1.xml"),
        b"not xml at all \x00\xff",
        b"",
    ]
    numbers = [sim.seed_raw(data, SELLER_NIP, BUYER_NIP) for data in hostile]
    assert len(set(numbers)) == len(hostile) and all(is_valid_ksef_number(n) for n in numbers)
    # the same bytes again are a new invoice: raw files are never refused as duplicates
    assert sim.seed_raw(hostile[0], SELLER_NIP, BUYER_NIP) not in numbers
    for number, data in zip(numbers, hostile, strict=True):
        resp = buyer.get("/invoices/ksef/%s" % number)
        assert resp.status_code == 200 and resp.content == data
    filters = {"subjectType": "Subject2", "dateRange": {"dateType": "PermanentStorage", "from": start.isoformat()}}
    _package, plain = _export(buyer, filters)
    with zipfile.ZipFile(io.BytesIO(plain)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
        meta = {m["ksefNumber"]: m for m in json.loads(files["_metadata.json"])["invoices"]}
    for number, data in zip(numbers, hostile, strict=True):
        assert files["%s.xml" % number] == data and meta[number]["invoiceHash"] == sha(data)
    with pytest.raises(ValueError):
        sim.seed_raw(b"<x/>", "12345", BUYER_NIP)
