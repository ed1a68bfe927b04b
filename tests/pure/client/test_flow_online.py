"""Token login, connection check, online session, statuses, UPO, download — against the simulator."""

import time

import pytest

from ksef_core.client import KsefApiError, KsefAuthError, TokenState
from ksef_core.ksef_number import is_valid_ksef_number
from ksef_core.xmlsafe import parse_xml

NIP = "5265877635"


def test_connection_check_reports_permissions(simulator, make_client):
    full = make_client(simulator, simulator.sim.mint_token(NIP)).check_connection()
    assert full.context == "Nip:" + NIP and full.method == "token"
    assert full.can_send and full.can_receive and full.missing == []
    read_only = make_client(simulator, simulator.sim.mint_token(NIP, permissions=("InvoiceRead",)))
    report = read_only.check_connection()
    assert not report.can_send and report.can_receive and report.missing == ["InvoiceWrite"]
    assert any("wystawianie faktur" in line for line in report.messages("pl"))
    assert report.to_dict()["certificate_not_after"] is None


def test_revoked_token_gives_clear_auth_error(simulator, make_client):
    token = simulator.sim.mint_token(NIP)
    simulator.sim.revoke_token(token)
    with pytest.raises(KsefAuthError) as err:
        make_client(simulator, token).check_connection()
    assert err.value.code == "auth_bad_token" and "nowy token" in err.value.message_pl


def test_send_poll_upo_download(simulator, make_client, make_invoice):
    simulator.sim.invoice_store.configure(permanent_storage_delay=0)
    changes = []
    client = make_client(simulator, simulator.sim.mint_token(NIP), on_token_change=changes.append)
    xml_a, xml_b = make_invoice(), make_invoice()
    results = client.send_invoices([("A", xml_a), ("B", xml_b)])
    assert set(results) == {"A", "B"}
    for result in results.values():
        assert result.ok and result.state == "success" and is_valid_ksef_number(result.ksef_number)
    assert results["A"].ksef_number != results["B"].ksef_number
    # session reused for the next send, closed on request
    more = client.send_invoices([("C", make_invoice())], close=True)
    assert more["C"].session_reference == results["A"].session_reference
    assert client.online.current is None
    upo = client.online.upo(results["A"].session_reference, results["A"].reference_number)
    assert results["A"].ksef_number.encode() in upo
    parse_xml(upo)  # well-formed
    assert client.download_invoice(results["A"].ksef_number) == xml_a
    assert len(changes) == 1 and isinstance(changes[0], TokenState)  # one login, state handed out once


def test_rejected_and_duplicate_invoices(simulator, make_client, make_invoice):
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    original = make_invoice(number="DUP/1")
    first = client.send_invoices([("orig", original)])["orig"]
    broken = make_invoice().replace(b"<P_15>", b"<P_15>abc", 1)
    results = client.send_invoices([("again", make_invoice(number="DUP/1")), ("bad", broken)])
    assert results["again"].duplicate and results["again"].ksef_number == first.ksef_number
    assert results["again"].ok
    bad = results["bad"]
    assert bad.final and not bad.ok and bad.ksef_number is None
    assert bad.status.code in (430, 450) and bad.message("pl") != bad.message("en")
    # another seller's invoice: the token's context may not issue it
    foreign = client.send_invoices([("foreign", make_invoice(seller_nip="1111111111"))])["foreign"]
    assert not foreign.ok and foreign.state == "permission_scope"


def test_expired_session_is_replaced(simulator, make_client, make_invoice):
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    first = client.send_invoices([("1", make_invoice())])["1"]
    simulator.sim.expire_session(first.session_reference)
    second = client.send_invoices([("2", make_invoice())])["2"]
    assert second.ok and second.session_reference != first.session_reference


def test_stored_token_state_is_reused_without_login(simulator, make_client):
    token = simulator.sim.mint_token(NIP)
    first = make_client(simulator, token)
    first.check_connection()
    stored = first.token_state.to_dict()
    before = simulator.sim.request_count
    second = make_client(simulator, token, token_state=stored)
    second.api("GET", "/sessions", params={"pageSize": 10, "sessionType": "Online"})
    assert simulator.sim.request_count - before == 1  # no challenge/login round trip


def test_refresh_ahead_of_expiry_and_relogin_when_refresh_fails(simulator, make_client):
    token = simulator.sim.mint_token(NIP)
    client = make_client(simulator, token)
    client.check_connection()
    access, refresh = client.token_state.access_token, client.token_state.refresh_token
    simulator.sim.clock.advance(900 - 60)  # inside the refresh margin
    client.api("GET", "/sessions", params={"pageSize": 10, "sessionType": "Online"})
    assert client.token_state.access_token != access and client.token_state.refresh_token == refresh
    # the authentication was ended in KSeF: the refresh is refused (401) and the client signs in again
    client.api("DELETE", "/auth/sessions/current")
    simulator.sim.clock.advance(900 - 60)
    client.api("GET", "/sessions", params={"pageSize": 10, "sessionType": "Online"})
    assert client.token_state.refresh_token != refresh
    # refresh token expired: sign in again without trying it
    second_refresh = client.token_state.refresh_token
    simulator.sim.clock.advance(8 * 24 * 3600)
    client.api("GET", "/sessions", params={"pageSize": 10, "sessionType": "Online"})
    assert client.token_state.refresh_token != second_refresh


def test_401_makes_the_client_sign_in_again(simulator, make_client):
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    client.check_connection()
    old = client.token_state.access_token
    simulator.sim.auth.invalidate_access_tokens()
    client.api("GET", "/sessions", params={"pageSize": 10, "sessionType": "Online"})
    assert client.token_state.access_token != old


def test_invoice_not_yet_stored_is_a_clear_error(simulator, make_client, make_invoice):
    simulator.sim.invoice_store.configure(permanent_storage_delay=3600)
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    result = client.send_invoices([("x", make_invoice())])["x"]
    with pytest.raises(KsefApiError) as err:
        client.download_invoice(result.ksef_number)
    assert err.value.code == "invoice_not_yet_available"
    time.sleep(0)  # nothing else to wait for
