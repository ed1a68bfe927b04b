"""Invoice export and metadata query answers checked against the API contract (OpenAPI 2.7.0, tests/spec/openapi).

One test per departure the simulator had from the contract:
1. a part download answers with ``x-ms-meta-hash`` (``InvoicePackagePart.url``),
2. the package names its ``compressionType`` (``CompressionType`` enum; required by API 2.9.0),
3. ``permanentStorageHwmDate`` is constant for all pages of one query,
4. ``permanentStorageHwmDate`` is null for dateType Issue / Invoicing,
5. ``lastPermanentStorageDate`` & co. only on a truncated package.
"""

import datetime as dt
import json

import pytest
import requests
from openapi_contract import contract, schema, violations
from siminv_helpers import aes_decrypt, issue_day, sample_bytes, set_clock, sha, with_number

from ksef_core.simulator.inv_archive import read_archive

SAMPLE = "FA_3_Przyklad_1.xml"
LAST_FIELDS = {
    "Issue": "lastIssueDate",
    "Invoicing": "lastInvoicingDate",
    "PermanentStorage": "lastPermanentStorageDate",
}
META_FIELDS = {"Issue": "issueDate", "Invoicing": "invoicingDate", "PermanentStorage": "permanentStorageDate"}


def _seed(sim, count, start, prefix="C"):
    xml = sample_bytes(SAMPLE)
    numbers = [
        sim.seed_incoming(with_number(xml, "%s/%03d" % (prefix, n)), acquisition_time=start + dt.timedelta(minutes=n))
        for n in range(count)
    ]
    sim.clock.advance(1)  # past the permanent-storage delay
    return numbers


def _setup(simulator, count=5):
    sim = simulator.sim
    set_clock(sim, dt.date(2026, 3, 1))
    start = sim.clock.now() - dt.timedelta(days=2)
    return start, _seed(sim, count, start)


def _filters(date_type, start):
    if date_type == "Issue":  # the seeds keep the sample's P_1
        start = dt.datetime.combine(issue_day(sample_bytes(SAMPLE)), dt.time(), dt.timezone.utc) - dt.timedelta(days=1)
        return {
            "subjectType": "Subject2",
            "dateRange": {
                "dateType": "Issue",
                "from": start.isoformat(),
                "to": (start + dt.timedelta(days=60)).isoformat(),
            },
        }
    return {"subjectType": "Subject2", "dateRange": {"dateType": date_type, "from": start.isoformat()}}


def _read_status(api, ref):
    """Status of a finished export; it conforms to ``InvoiceExportStatusResponse``."""
    status = api.get("/invoices/exports/%s" % ref)
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["status"]["code"] == 200, body
    assert violations(body, schema("InvoiceExportStatusResponse")) == []
    return body


def _status(api, filters, ref_out=None, **extra):
    """(status body, AES key, IV) of a new export (its reference appended to ``ref_out``)."""
    key, iv, info = api.encryption()
    resp = api.post("/invoices/exports", dict({"encryption": info, "filters": filters}, **extra))
    assert resp.status_code == 201, resp.text
    ref = resp.json()["referenceNumber"]
    if ref_out is not None:
        ref_out.append(ref)
    return _read_status(api, ref), key, iv


def _plain(package, key, iv):
    parts = sorted(package["parts"], key=lambda p: p["ordinalNumber"])
    return b"".join(aes_decrypt(key, iv, requests.get(p["url"]).content) for p in parts)


def _metadata(package, key, iv):
    members = {m.name: m.data for m in read_archive(_plain(package, key, iv), package.get("compressionType", "Zip"))}
    return json.loads(members["_metadata.json"])["invoices"]


# 1 ------------------------------------------------------------------------------------------------------------------
def test_part_download_answers_with_x_ms_meta_hash_of_the_encrypted_part(simulator, buyer):
    part_schema = schema("InvoicePackagePart")
    url_doc = part_schema["properties"]["url"]["description"]
    assert "`x-ms-meta-hash` – zaszyfrowanej części paczki" in url_doc  # the contract: hash of the encrypted part
    start, _numbers = _setup(simulator)
    simulator.sim.invoice_store.configure(export_part_size=1500)  # several parts
    body, key, iv = _status(buyer, _filters("PermanentStorage", start))
    parts = body["package"]["parts"]
    assert len(parts) > 1
    for part in parts:
        resp = requests.get(part["url"])  # pre-signed: no bearer
        assert resp.status_code == 200
        header = resp.headers.get("x-ms-meta-hash")
        assert header, "part %d downloaded without x-ms-meta-hash" % part["ordinalNumber"]
        assert header == sha(resp.content) == part["encryptedPartHash"]
        assert header != part["partHash"] == sha(aes_decrypt(key, iv, resp.content))


# 2 ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("requested", [None, "Zip", "TarGz"])
def test_package_names_its_compression_type(simulator, buyer, requested):
    enum = schema("CompressionType")["enum"]
    request_doc = schema("InvoiceExportRequest")["properties"]["compressionType"]["description"]
    assert enum == ["Zip", "TarGz"] and "Domyślna kompresja to Zip" in request_doc
    start, _numbers = _setup(simulator, 2)
    extra = {"compressionType": requested} if requested else {}
    body, key, iv = _status(buyer, _filters("PermanentStorage", start), **extra)
    package = body["package"]
    assert "compressionType" in package, "API 2.9.0 requires InvoicePackage.compressionType"
    assert violations(package["compressionType"], contract()["components"]["schemas"]["CompressionType"]) == []
    assert package["compressionType"] == (requested or "Zip")
    plain = _plain(package, key, iv)
    assert plain[:2] == (b"\x1f\x8b" if requested == "TarGz" else b"PK")  # gzip / ZIP magic: the name is the truth


# 3 ------------------------------------------------------------------------------------------------------------------
def test_hwm_is_the_same_on_every_page_of_one_query(simulator, buyer):
    doc = schema("QueryInvoicesMetadataResponse")["properties"]["permanentStorageHwmDate"]["description"]
    assert "Wartość jest stała dla wszystkich stron tego samego zapytania" in doc
    sim = simulator.sim
    start, numbers = _setup(simulator, 25)
    filters = _filters("PermanentStorage", start)

    def page(offset, order="Asc"):
        resp = buyer.query(filters, pageOffset=offset, pageSize=10, sortOrder=order)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert violations(body, schema("QueryInvoicesMetadataResponse")) == []
        return body

    first = page(0)
    hwm = first["permanentStorageHwmDate"]
    assert hwm
    sim.clock.advance(60)  # time passes and more invoices reach permanent storage while the caller pages
    later = _seed(sim, 3, sim.clock.now() - dt.timedelta(minutes=5), prefix="L")
    sim.clock.advance(60)
    rest = [page(1), page(2), page(1, "Desc")]
    assert [b["permanentStorageHwmDate"] for b in rest] == [hwm] * 3
    seen = [m["ksefNumber"] for b in [first, *rest[:2]] for m in b["invoices"]]
    assert seen == numbers and rest[1]["hasMore"] is False  # the query's snapshot: nothing newer slips in
    # a new query (pageOffset 0 again) has a newer snapshot
    again = page(0)
    assert again["permanentStorageHwmDate"] > hwm
    assert [m["ksefNumber"] for m in page(2)["invoices"]] == numbers[20:] + later
    # the export's package, too, keeps its value however often its status is read
    refs = []
    body, _key, _iv = _status(buyer, filters, refs)
    sim.clock.advance(60)
    _seed(sim, 1, sim.clock.now(), prefix="M")
    again = _read_status(buyer, refs[0])["package"]
    assert again["permanentStorageHwmDate"] == body["package"]["permanentStorageHwmDate"]
    assert again["invoiceCount"] == body["package"]["invoiceCount"] == 28


# 4 ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("date_type", ["Issue", "Invoicing", "PermanentStorage"])
def test_hwm_is_null_unless_the_date_type_is_permanent_storage(simulator, buyer, date_type):
    for name in ("QueryInvoicesMetadataResponse", "InvoicePackage"):
        prop = schema(name)["properties"]["permanentStorageHwmDate"]
        assert prop["nullable"] is True and "Dla dateType = Issue lub Invoicing – null." in prop["description"]
    start, numbers = _setup(simulator, 3)
    filters = _filters(date_type, start)
    resp = buyer.query(filters, pageSize=10)
    assert resp.status_code == 200, resp.text
    query = resp.json()
    assert violations(query, schema("QueryInvoicesMetadataResponse")) == []
    assert [m["ksefNumber"] for m in query["invoices"]] == numbers
    body, _key, _iv = _status(buyer, filters)
    assert body["package"]["invoiceCount"] == 3
    for answer in (query, body["package"]):
        if date_type == "PermanentStorage":
            assert answer["permanentStorageHwmDate"]
        else:
            assert answer.get("permanentStorageHwmDate") is None


def test_restriction_to_the_hwm_applies_to_permanent_storage_only(simulator, buyer):
    doc = schema("InvoiceQueryDateRange")["properties"]["restrictToPermanentStorageHwmDate"]["description"]
    assert "Dotyczy wyłącznie zapytań z `dateType = PermanentStorage`" in doc
    _setup(simulator, 1)
    future = (simulator.sim.clock.now() + dt.timedelta(hours=1)).isoformat()
    for date_type, code in (("Invoicing", 200), ("PermanentStorage", 400)):
        filters = {
            "subjectType": "Subject2",
            "dateRange": {"dateType": date_type, "from": future, "restrictToPermanentStorageHwmDate": True},
        }
        assert buyer.query(filters, pageSize=10).status_code == code


# 5 ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("date_type", ["Issue", "Invoicing", "PermanentStorage"])
def test_last_date_only_on_a_truncated_package(simulator, buyer, date_type):
    properties = schema("InvoicePackage")["properties"]
    for kind, name in LAST_FIELDS.items():
        assert "wyłącznie wtedy, gdy paczka została ucięta" in properties[name]["description"]
        assert "filtrowany po typie daty `%s`" % kind in properties[name]["description"]
    start, numbers = _setup(simulator, 4)
    filters = _filters(date_type, start)
    whole, _key, _iv = _status(buyer, filters)
    assert whole["package"]["isTruncated"] is False and whole["package"]["invoiceCount"] == 4
    assert [whole["package"].get(name) for name in LAST_FIELDS.values()] == [None, None, None]
    simulator.sim.invoice_store.configure(export_max_invoices=3)
    cut, key, iv = _status(buyer, filters)
    package = cut["package"]
    assert package["isTruncated"] is True and package["invoiceCount"] == 3
    present = {name for name in LAST_FIELDS.values() if package.get(name) is not None}
    assert present == {LAST_FIELDS[date_type]}  # only the one of the filter's date type
    meta = _metadata(package, key, iv)
    assert [m["ksefNumber"] for m in meta] == numbers[:3]
    assert package[LAST_FIELDS[date_type]] == meta[-1][META_FIELDS[date_type]]
