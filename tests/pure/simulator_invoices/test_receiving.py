"""Receiving: the parties of an invoice find it with query/metadata and download it."""

import datetime as dt

from siminv_helpers import (
    BUYER_NIP,
    SELLER_NIP,
    THIRD_NIP,
    Api,
    issue_day,
    sample_bytes,
    set_clock,
    sha,
    with_number,
)


def _filters(subject, start, date_type="PermanentStorage", **extra):
    body = {"subjectType": subject, "dateRange": {"dateType": date_type, "from": start.isoformat()}}
    body.update(extra)
    return body


def _send(simulator, seller, xml):
    set_clock(simulator.sim, issue_day(xml))
    status = seller.open_online().send(xml)
    assert status["status"]["code"] == 200
    simulator.sim.clock.advance(5)  # past the permanent-storage delay
    return status


def test_buyer_and_third_party_see_the_invoice_sent_by_the_seller(simulator, seller, buyer):
    xml = sample_bytes("FA_3_Przyklad_10.xml")  # Podmiot3 = 3333333333
    status = _send(simulator, seller, xml)
    start = simulator.sim.clock.now() - dt.timedelta(days=1)
    resp = buyer.query(_filters("Subject2", start))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["hasMore"], body["isTruncated"]) == (False, False)
    assert body["permanentStorageHwmDate"]
    [meta] = body["invoices"]
    assert meta["ksefNumber"] == status["ksefNumber"]
    assert meta["seller"] == {"nip": SELLER_NIP, "name": "ABC Developex sp. z o. o."}
    assert meta["buyer"]["identifier"] == {"type": "Nip", "value": BUYER_NIP}
    assert meta["invoiceType"] == "Zal" and meta["currency"] == "PLN"
    assert meta["grossAmount"] == 20000.0 and meta["invoiceHash"] == sha(xml)
    assert meta["issueDate"] == issue_day(xml).isoformat()
    assert meta["thirdSubjects"][0]["identifier"] == {"type": "Nip", "value": THIRD_NIP}
    assert meta["formCode"] == {"systemCode": "FA (3)", "schemaVersion": "1-0E", "value": "FA"}
    # the buyer is not the seller: nothing as Subject1
    assert buyer.query(_filters("Subject1", start)).json()["invoices"] == []
    assert [i["ksefNumber"] for i in seller.query(_filters("Subject1", start)).json()["invoices"]] == [
        status["ksefNumber"]
    ]
    third = Api(simulator, THIRD_NIP, ("InvoiceRead",))
    assert len(third.query(_filters("Subject3", start)).json()["invoices"]) == 1
    # download by KSeF number: the exact bytes, with their hash
    resp = buyer.get("/invoices/ksef/%s" % status["ksefNumber"])
    assert resp.status_code == 200
    assert resp.content == xml
    assert resp.headers["x-ms-meta-hash"] == sha(xml)
    assert resp.headers["Content-Type"].startswith("application/xml")


def test_strangers_cannot_download_and_unknown_numbers_give_21164(simulator, seller):
    status = _send(simulator, seller, sample_bytes("FA_3_Przyklad_1.xml"))
    stranger = Api(simulator, "5265877635", ("InvoiceRead",))
    for number in (status["ksefNumber"], "5265877635-20260215-0000000000AA-11"):
        resp = stranger.get("/invoices/ksef/%s" % number)
        assert resp.status_code == 400
        assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21164


def test_invoice_is_visible_only_after_permanent_storage(simulator, seller, buyer):
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    set_clock(simulator.sim, issue_day(xml))
    simulator.sim.clock.freeze()
    simulator.sim.invoice_store.configure(permanent_storage_delay=60)
    status = seller.open_online().send(xml)
    assert "permanentStorageDate" not in status
    resp = buyer.get("/invoices/ksef/%s" % status["ksefNumber"])
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21165
    start = simulator.sim.clock.now() - dt.timedelta(hours=1)
    assert buyer.query(_filters("Subject2", start)).json()["invoices"] == []
    simulator.sim.clock.advance(61)
    assert len(buyer.query(_filters("Subject2", start)).json()["invoices"]) == 1
    assert buyer.get("/invoices/ksef/%s" % status["ksefNumber"]).status_code == 200


def test_paging_sorting_and_the_truncation_cap(simulator, seller, buyer):
    simulator.sim.invoice_store.configure(query_cap=25)
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    set_clock(simulator.sim, issue_day(xml))
    start = simulator.sim.clock.now() - dt.timedelta(minutes=1)
    session = seller.open_online()
    numbers = []
    for n in range(30):
        numbers.append(session.send(with_number(xml, "P/%02d" % n))["ksefNumber"])
        simulator.sim.clock.advance(1)
    simulator.sim.clock.advance(5)
    seen, offset = [], 0
    while True:
        body = buyer.query(_filters("Subject2", start), pageOffset=offset, pageSize=10).json()
        seen.extend(i["ksefNumber"] for i in body["invoices"])
        if not body["hasMore"] or body["isTruncated"]:
            break
        offset += 1
    assert body["isTruncated"] and body["hasMore"]
    assert seen == numbers[:25]
    # continue from the last record's date, as the documentation says
    last = buyer.query(_filters("Subject2", start), pageOffset=2, pageSize=10).json()["invoices"][-1]
    rest = buyer.query(_filters("Subject2", dt.datetime.fromisoformat(last["permanentStorageDate"])), pageSize=10)
    rest = rest.json()
    assert not rest["isTruncated"] and not rest["hasMore"]
    assert [i["ksefNumber"] for i in rest["invoices"]] == numbers[24:]
    desc = buyer.query(_filters("Subject2", start), pageSize=10, sortOrder="Desc").json()["invoices"]
    assert [i["ksefNumber"] for i in desc] == numbers[::-1][:10]


def test_query_filters_and_validation(simulator, seller, buyer):
    status = _send(simulator, seller, sample_bytes("FA_3_Przyklad_1.xml"))
    start = simulator.sim.clock.now() - dt.timedelta(days=1)
    number = status["ksefNumber"]

    def found(**extra):
        resp = buyer.query(_filters("Subject2", start, **extra))
        assert resp.status_code == 200, resp.text
        return [i["ksefNumber"] for i in resp.json()["invoices"]]

    assert found(ksefNumber=number) == [number]
    assert found(invoiceNumber="FV2026/02/150") == [number]
    assert found(invoiceNumber="nope") == []
    assert found(amount={"type": "Brutto", "from": 2000, "to": 2100}) == [number]
    assert found(amount={"type": "Netto", "from": 5000}) == []
    assert found(currencyCodes=["EUR"]) == []
    assert found(invoiceTypes=["Vat"], sellerNip=SELLER_NIP) == [number]
    assert found(buyerIdentifier={"type": "Nip", "value": BUYER_NIP}) == [number]
    assert found(invoicingMode="Offline") == []
    assert found(hasAttachment=True) == []
    issue = issue_day(sample_bytes("FA_3_Przyklad_1.xml"))
    assert buyer.query(_filters("Subject2", dt.datetime(issue.year, issue.month, issue.day), "Issue")).json()[
        "invoices"
    ]
    # more than 3 months -> 21405; from after the HWM with the restriction -> 21183
    wide = _filters("Subject2", start)
    wide["dateRange"]["to"] = (start + dt.timedelta(days=100)).isoformat()
    resp = buyer.query(wide)
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21405
    future = _filters("Subject2", simulator.sim.clock.now() + dt.timedelta(hours=1))
    future["dateRange"]["restrictToPermanentStorageHwmDate"] = True
    resp = buyer.query(future)
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21183
    assert buyer.query(_filters("Subject2", start), pageSize=5).status_code == 400
