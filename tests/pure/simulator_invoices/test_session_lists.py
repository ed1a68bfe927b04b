"""Session lists and paging, technical corrections, session expiry and persistence."""

import datetime as dt

from siminv_helpers import SELLER_NIP, Api, issue_day, sample_bytes, set_clock, sha, with_number

from ksef_core.simulator.testing import running_simulator


def _xml():
    return sample_bytes("FA_3_Przyklad_1.xml")


def test_session_invoice_list_pages_with_continuation_token(simulator, seller):
    set_clock(simulator.sim, issue_day(_xml()))
    session = seller.open_online()
    refs = []
    for n in range(23):
        xml = with_number(_xml(), "C/%d" % n) if n % 5 else b"\xef\xbb\xbf" + with_number(_xml(), "C/%d" % n)
        resp = session.send_raw(session.request_body(xml))
        refs.append(resp.json()["referenceNumber"])
    seen, token, pages = [], None, 0
    while True:
        headers = {"x-continuation-token": token} if token else {}
        body = seller.get("/sessions/%s/invoices" % session.ref, params={"pageSize": 10}, headers=headers).json()
        seen.extend(i["referenceNumber"] for i in body["invoices"])
        pages += 1
        token = body.get("continuationToken")
        if not token:
            break
    assert seen == refs and pages == 3
    assert [
        i["ordinalNumber"]
        for i in seller.get("/sessions/%s/invoices" % session.ref, params={"pageSize": 10}).json()["invoices"]
    ] == list(range(1, 11))
    failed = seller.get("/sessions/%s/invoices/failed" % session.ref, params={"pageSize": 10}).json()["invoices"]
    assert [i["ordinalNumber"] for i in failed] == [1, 6, 11, 16, 21]
    resp = seller.get("/sessions/%s/invoices" % session.ref, headers={"x-continuation-token": "garbage!"})
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21418
    assert seller.get("/sessions/%s/invoices" % session.ref, params={"pageSize": 5}).status_code == 400


def test_sessions_list_shows_own_sessions_only(simulator, seller, buyer):
    set_clock(simulator.sim, issue_day(_xml()))
    open_one = seller.open_online()
    closed = seller.open_online()
    closed.send(_xml())
    closed.close()
    buyer.open_online()
    body = seller.get("/sessions", params={"sessionType": "Online"}).json()
    assert {s["referenceNumber"] for s in body["sessions"]} == {open_one.ref, closed.ref}
    done = seller.get("/sessions", params={"sessionType": "Online", "statuses": "Succeeded"}).json()["sessions"]
    assert [s["referenceNumber"] for s in done] == [closed.ref]
    assert done[0]["successfulInvoiceCount"] == done[0]["totalInvoiceCount"] == 1
    assert seller.get("/sessions", params={"sessionType": "Batch"}).json()["sessions"] == []
    assert seller.get("/sessions").status_code == 400


def test_technical_correction_rules(simulator, seller, buyer):
    xml = _xml()
    set_clock(simulator.sim, issue_day(xml))
    session = seller.open_online()
    broken = xml.replace(b"<P_2>", b"<P_2X>", 1).replace(b"</P_2>", b"</P_2X>", 1)
    assert session.send(broken, offlineMode=True)["status"]["code"] == 450
    fixed = session.send(xml, offlineMode=True, hashOfCorrectedInvoice=sha(broken))
    assert fixed["status"]["code"] == 200 and fixed["invoicingMode"] == "Offline"
    # only one accepted technical correction per original
    again = session.send_raw(
        session.request_body(with_number(xml, "T/2"), offlineMode=True, hashOfCorrectedInvoice=sha(broken))
    )
    assert again.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21166
    # an accepted invoice cannot be technically corrected
    wrong = session.send_raw(
        session.request_body(with_number(xml, "T/3"), offlineMode=True, hashOfCorrectedInvoice=sha(xml))
    )
    assert wrong.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21167
    simulator.sim.clock.advance(5)
    start = (simulator.sim.clock.now() - dt.timedelta(days=1)).isoformat()
    [meta] = buyer.query({"subjectType": "Subject2", "dateRange": {"dateType": "Invoicing", "from": start}}).json()[
        "invoices"
    ]
    assert meta["hashOfCorrectedInvoice"] == sha(broken)


def test_expired_online_session_is_closed_and_processed(simulator, seller):
    set_clock(simulator.sim, issue_day(_xml()))
    session = seller.open_online()
    session.send(_xml())
    assert simulator.sim.expire_session(session.ref) is True
    status = seller.session_status(session.ref)
    assert status["status"]["code"] == 200 and status["upo"]["pages"]
    resp = session.send_raw(session.request_body(with_number(_xml(), "Z/1")))
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21180


def test_invoices_survive_a_restart_with_a_data_dir(tmp_path):
    xml = _xml()
    with running_simulator(data_dir=str(tmp_path)) as server:
        set_clock(server.sim, issue_day(xml))
        api = Api(server, SELLER_NIP)
        session = api.open_online()
        number = session.send(xml)["ksefNumber"]
        session.close()
    with running_simulator(data_dir=str(tmp_path)) as server:
        set_clock(server.sim, issue_day(xml) + dt.timedelta(days=1))
        api = Api(server, SELLER_NIP)
        status = api.session_status(session.ref)
        assert status["status"]["code"] == 200 and status["successfulInvoiceCount"] == 1
        resp = api.get("/invoices/ksef/%s" % number)
        assert resp.status_code == 200 and resp.content == xml
        # the duplicate index survived too
        again = api.open_online().send(xml)
        assert again["status"]["extensions"]["originalKsefNumber"] == number


def test_batch_interrupted_by_a_restart_is_processed_after_it(tmp_path):
    from siminv_helpers import Batch, make_archive

    from ksef_core.simulator.storage_invoices import session_status

    files = [("a%d.xml" % n, with_number(_xml(), "R/%d" % n)) for n in range(3)]
    with running_simulator(data_dir=str(tmp_path)) as server:
        set_clock(server.sim, issue_day(_xml()))
        batch = Batch(Api(server, SELLER_NIP), make_archive(files))
        batch.open()
        assert batch.upload() == [201]
        # the simulator stops right after accepting the close (before its worker ran)
        with server.sim.state.lock:
            server.sim.invoice_store.sessions[batch.ref]["status"] = session_status(150)
    with running_simulator(data_dir=str(tmp_path)) as server:
        api = Api(server, SELLER_NIP)
        batch.api = api
        final = api.wait_session(batch.ref)
        assert final["status"]["code"] == 200 and final["successfulInvoiceCount"] == 3
        assert sorted(i["invoiceFileName"] for i in batch.invoices()) == ["a0.xml", "a1.xml", "a2.xml"]
