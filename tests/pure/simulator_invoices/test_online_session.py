"""Online sessions over real HTTP: the official samples are accepted, broken copies refused."""

import re

import pytest
from siminv_helpers import (
    SAMPLES,
    SELLER_NIP,
    b64,
    issue_day,
    official_samples,
    sample_bytes,
    set_clock,
    sha,
    with_number,
)

from ksef_core.ksef_number import is_valid_ksef_number

FORM = {"systemCode": "FA (3)", "schemaVersion": "1-0E", "value": "FA"}


@pytest.mark.parametrize("name", official_samples())
def test_official_sample_is_accepted_with_a_valid_ksef_number(simulator, seller, name):
    xml = sample_bytes(name)
    day = issue_day(xml)
    set_clock(simulator.sim, day)
    session = seller.open_online()
    status = session.send(xml)
    assert status["status"]["code"] == 200, status
    number = status["ksefNumber"]
    assert is_valid_ksef_number(number)
    assert number.startswith("%s-%s-" % (SELLER_NIP, day.strftime("%Y%m%d")))
    assert status["invoicingMode"] == "Online"
    assert status["invoiceHash"] == sha(xml)
    assert status["invoiceNumber"] == re.search(rb"<P_2>([^<]*)</P_2>", xml).group(1).decode()
    assert status["acquisitionDate"] and status["upoDownloadUrl"]
    final = session.close()
    assert final["status"]["code"] == 200
    assert (final["invoiceCount"], final["successfulInvoiceCount"], final["failedInvoiceCount"]) == (1, 1, 0)
    assert len(final["upo"]["pages"]) == 1


def test_csharp_template_is_accepted_once_filled_in(simulator, seller):
    template = (SAMPLES / "ksef-client-templates" / "csharp_invoice-template-fa-3.xml").read_bytes()
    xml = template.replace(b"#nip#", SELLER_NIP.encode()).replace(b"#invoice_number#", b"T-1")
    set_clock(simulator.sim, issue_day(xml))
    status = seller.open_online().send(xml)
    assert status["status"]["code"] == 200, status
    assert is_valid_ksef_number(status["ksefNumber"])


def _corruptions(xml):
    """(label, bytes, expected status, text expected in the details)."""
    return [
        ("xsd", xml.replace(b"<P_2>", b"<P_2X>", 1).replace(b"</P_2>", b"</P_2X>", 1), 450, "P_2"),
        ("bom", b"\xef\xbb\xbf" + xml, 450, "BOM"),
        ("pi", xml.replace(b"?>", b"?><?xml-stylesheet href='a.xsl'?>", 1), 450, "instrukcj"),
        ("nip", xml.replace(b"<NIP>1111111111</NIP>", b"<NIP>1111111112</NIP>", 1), 450, "Podmiot2"),
        ("latin2", xml.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-2"', 1), 450, "ISO-8859-2"),
    ]


@pytest.mark.parametrize("name", official_samples())
def test_corrupted_copies_of_each_sample_are_refused(simulator, seller, name):
    xml = sample_bytes(name)
    set_clock(simulator.sim, issue_day(xml))
    session = seller.open_online()
    for label, bad, code, text in _corruptions(xml):
        if bad == xml:
            continue  # e.g. no Podmiot2 NIP in this sample
        status = session.send(bad)
        assert status["status"]["code"] == code, (label, status)
        assert status.get("ksefNumber") is None
        assert any(text in d for d in status["status"]["details"]), (label, status)
    # declared sizes / hashes that do not match the content: synchronous 400
    body = session.request_body(xml)
    for field, value, code in [
        ("encryptedInvoiceSize", body["encryptedInvoiceSize"] + 16, 21402),
        ("invoiceSize", body["invoiceSize"] + 1, 21402),
        ("encryptedInvoiceHash", sha(b"other"), 21403),
        ("invoiceHash", sha(b"other"), 21403),
    ]:
        resp = session.send_raw(dict(body, **{field: value}))
        assert resp.status_code == 400, (field, resp.text)
        assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == code, field
    # the session only counted the invoices that passed the size/hash gate
    failed = seller.get("/sessions/%s/invoices/failed" % session.ref, params={"pageSize": 10}).json()
    assert {i["status"]["code"] for i in failed["invoices"]} == {450}


def test_wrong_key_gives_decryption_error_435(simulator, seller):
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    set_clock(simulator.sim, issue_day(xml))
    session = seller.open_online()
    session.key = bytes(32)  # encrypt with another key than the one announced
    status = session.send(xml)
    assert status["status"]["code"] == 435


def test_duplicate_is_refused_with_the_original_number(simulator, seller):
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    set_clock(simulator.sim, issue_day(xml))
    first_session = seller.open_online()
    first = first_session.send(xml)
    second_session = seller.open_online()
    dup = second_session.send(xml)
    assert dup["status"]["code"] == 440
    ext = dup["status"]["extensions"]
    assert ext["originalKsefNumber"] == first["ksefNumber"]
    assert ext["originalSessionReferenceNumber"] == first_session.ref
    # another invoice number is no duplicate
    assert second_session.send(with_number(xml, "FV/OTHER/1"))["status"]["code"] == 200


def test_seller_must_be_the_context(simulator, buyer):
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    set_clock(simulator.sim, issue_day(xml))
    status = buyer.open_online().send(xml)
    assert status["status"]["code"] == 410


def test_future_issue_date_is_refused_and_past_date_marks_offline(simulator, seller):
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    day = issue_day(xml)
    set_clock(simulator.sim, day.replace(day=day.day - 1))
    session = seller.open_online()
    early = session.send(xml)
    assert early["status"]["code"] == 450
    assert any("P_1" in d for d in early["status"]["details"])
    simulator.sim.clock.advance(3 * 86400)  # the first session has expired (12 h) meanwhile
    assert seller.session_status(session.ref)["status"]["code"] == 445
    session = seller.open_online()
    late = session.send(xml)
    assert late["status"]["code"] == 200
    assert late["invoicingMode"] == "Offline"
    declared = session.send(with_number(xml, "FV/OFF/2"), offlineMode=True)
    assert declared["invoicingMode"] == "Offline"


def test_session_invoice_limit_21155(simulator, seller):
    simulator.sim.invoice_store.configure(session_invoice_limit=2)
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    set_clock(simulator.sim, issue_day(xml))
    session = seller.open_online()
    for n in range(2):
        assert session.send(with_number(xml, "L/%d" % n))["status"]["code"] == 200
    resp = session.send_raw(session.request_body(with_number(xml, "L/3")))
    assert resp.status_code == 400
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21155


def test_closed_or_unknown_session_refuses_invoices(simulator, seller):
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    set_clock(simulator.sim, issue_day(xml))
    session = seller.open_online()
    final = session.close()
    assert final["status"]["code"] == 440  # closed without invoices: cancelled
    resp = session.send_raw(session.request_body(xml))
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21180
    resp = seller.post("/sessions/online/20260101-SO-0000000000-0000000000-00/invoices", session.request_body(xml))
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21173


def test_unwrappable_key_gives_session_status_415(simulator, seller):
    _key, _iv, info = seller.encryption()
    info["encryptedSymmetricKey"] = b64(b"\x01" * 256)
    resp = seller.post(
        "/sessions/online",
        {"formCode": {"systemCode": "FA (3)", "schemaVersion": "1-0E", "value": "FA"}, "encryption": info},
    )
    assert resp.status_code == 201
    assert seller.session_status(resp.json()["referenceNumber"])["status"]["code"] == 415


@pytest.mark.parametrize("body", [[], {}, {"formCode": 1, "encryption": []}, "text", {"batchFile": {"fileParts": 3}}])
def test_malformed_requests_get_400_not_500(simulator, seller, body):
    session = seller.open_online()
    for path in (
        "/sessions/online",
        "/sessions/batch",
        "/invoices/query/metadata",
        "/invoices/exports",
        "/sessions/online/%s/invoices" % session.ref,
    ):
        resp = seller.post(path, body)
        assert resp.status_code == 400, (path, resp.text)
        assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21405, path


def test_retired_public_key_id_gives_21470(simulator, seller):
    _key, _iv, info = seller.encryption()
    simulator.sim.rotate_keys(emergency=True)
    resp = seller.post("/sessions/online", {"formCode": FORM, "encryption": info})
    assert resp.status_code == 400
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21470
    _key, _iv, info = seller.encryption()  # the new key from the refreshed certificate list
    assert seller.post("/sessions/online", {"formCode": FORM, "encryption": info}).status_code == 201


def test_invoice_status_can_stay_processing_for_some_polls(simulator, seller):
    simulator.sim.invoice_store.configure(invoice_pending_polls=2)
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    set_clock(simulator.sim, issue_day(xml))
    session = seller.open_online()
    ref = session.send_raw(session.request_body(xml)).json()["referenceNumber"]
    first, second, third = (session.status(ref) for _ in range(3))
    assert first["status"]["code"] == second["status"]["code"] == 150
    assert "ksefNumber" not in first
    assert third["status"]["code"] == 200 and is_valid_ksef_number(third["ksefNumber"])
