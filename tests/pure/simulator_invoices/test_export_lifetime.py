"""An export over time, as the contract's ``GET /invoices/exports/{referenceNumber}`` describes it (OpenAPI 2.7.0):

* 100 while the package is being prepared (``export_pending_polls``), then 200 with the package;
* the part URLs are made at every status request ("Link jest generowany dynamicznie w momencie odpytania o
  status"): an earlier URL expires at its ``expirationDate``, a later status gives a working one;
* after ``packageExpirationDate`` the status is 210 (expired) without a package, and the parts are gone;
* the status is kept 7 days, then 410 Gone.
"""

import datetime as dt

import requests
from openapi_contract import contract, schema, violations
from siminv_helpers import BUYER_NIP, Api, aes_decrypt, sample_bytes, sha, with_number

STATUS_SCHEMA = "InvoiceExportStatusResponse"


def _export(simulator, buyer, count=2):
    sim = simulator.sim
    start = sim.clock.now() - dt.timedelta(hours=1)
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    for n in range(count):
        sim.seed_incoming(with_number(xml, "LIFE/%d" % n), acquisition_time=start + dt.timedelta(minutes=n))
    sim.clock.advance(1)
    key, iv, info = buyer.encryption()
    filters = {"subjectType": "Subject2", "dateRange": {"dateType": "PermanentStorage", "from": start.isoformat()}}
    resp = buyer.post("/invoices/exports", {"encryption": info, "filters": filters})
    assert resp.status_code == 201, resp.text
    return resp.json()["referenceNumber"], key, iv


def _status(api, ref):
    resp = api.get("/invoices/exports/%s" % ref)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert violations(body, schema(STATUS_SCHEMA)) == []
    return body


def test_the_status_description_names_the_lifetime_the_simulator_follows():
    get = contract()["paths"]["/invoices/exports/{referenceNumber}"]["get"]
    assert "Link jest generowany dynamicznie w momencie odpytania o status" in str(
        schema("InvoicePackagePart")["properties"]["url"]["description"]
    )
    assert "Status eksportu paczki faktur jest dostępny przez 7 dni." in get["description"]
    assert "| 210 | Eksport faktur wygasł" in schema(STATUS_SCHEMA)["properties"]["status"]["description"]
    assert "410" in get["responses"]


def test_pending_then_done_with_fresh_part_urls_at_every_status(simulator, buyer):
    store = simulator.sim.invoice_store
    store.configure(export_pending_polls=2, url_ttl=60)
    ref, key, iv = _export(simulator, buyer)
    for _poll in range(2):
        body = _status(buyer, ref)
        assert body["status"]["code"] == 100 and body.get("package") is None
    first = _status(buyer, ref)
    assert first["status"]["code"] == 200
    (part,) = first["package"]["parts"]
    assert requests.get(part["url"]).status_code == 200
    simulator.sim.clock.advance(120)  # past the URL's expirationDate
    assert simulator.sim.clock.now() > dt.datetime.fromisoformat(part["expirationDate"])
    assert requests.get(part["url"]).status_code == 403
    again = _status(buyer, ref)
    (fresh,) = again["package"]["parts"]
    assert fresh["url"] != part["url"] and fresh["expirationDate"] > part["expirationDate"]
    resp = requests.get(fresh["url"])
    assert resp.status_code == 200 and sha(resp.content) == fresh["encryptedPartHash"]
    assert sha(aes_decrypt(key, iv, resp.content)) == fresh["partHash"]
    assert again["packageExpirationDate"] == first["packageExpirationDate"]


def test_expired_package_answers_210_without_a_package_then_the_status_is_gone(simulator, buyer):
    store = simulator.sim.invoice_store
    store.configure(export_package_ttl=300)
    ref, _key, _iv = _export(simulator, buyer)
    done = _status(buyer, ref)
    (part,) = done["package"]["parts"]
    expires = dt.datetime.fromisoformat(done["packageExpirationDate"])
    completed = dt.datetime.fromisoformat(done["completedDate"])
    assert abs(expires - (completed + dt.timedelta(seconds=300))) < dt.timedelta(seconds=5)
    simulator.sim.clock.advance(600)
    expired = _status(buyer, ref)
    assert expired["status"]["code"] == 210 and expired.get("package") is None
    assert expired["packageExpirationDate"] == done["packageExpirationDate"]
    assert requests.get(part["url"]).status_code == 404  # the URL is still signed, the package is gone
    simulator.sim.clock.advance(7 * 24 * 3600)
    later = Api(simulator, BUYER_NIP)  # a new login: the clock moved a week
    assert later.get("/invoices/exports/%s" % ref).status_code == 410
