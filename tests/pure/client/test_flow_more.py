"""More flows against the simulator: key choice, auth polling, offline mode, error format, PEM, export parts."""

import datetime

import pytest

from ksef_core.certgen import make_test_certificate
from ksef_core.client import KsefApiError, KsefClient, KsefTimeout, PollPolicy
from ksef_core.client.keys import SYMMETRIC_KEY_ENCRYPTION, TOKEN_ENCRYPTION
from ksef_core.credentials import load_credential
from ksef_core.environments import ENVIRONMENTS

NIP = "5265877635"


def test_named_environments_use_the_environment_table():
    for name in ("TEST", "DEMO", "PROD"):
        client = KsefClient(name, nip=NIP)
        assert client.transport.base_url == ENVIRONMENTS[name].api_url
        client.close()


def test_planned_rotation_picks_the_newest_valid_key(simulator, make_client):
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    old = client.keys.get(SYMMETRIC_KEY_ENCRYPTION).public_key_id
    simulator.sim.rotate_keys(emergency=False)
    assert client.keys.get(SYMMETRIC_KEY_ENCRYPTION).public_key_id == old  # cached, still valid
    simulator.sim.clock.advance(7 * 3600)  # cache older than its maximum age: list downloaded again
    new = client.keys.get(SYMMETRIC_KEY_ENCRYPTION).public_key_id
    assert new != old and new == simulator.sim.keys.current(SYMMETRIC_KEY_ENCRYPTION)["publicKeyId"]
    assert client.keys.get(TOKEN_ENCRYPTION).public_key_id != new  # chosen by usage
    client.online.open()  # the new key works


def test_auth_status_is_polled_until_final_and_bounded(simulator, make_client, sleeps):
    simulator.sim.auth.pending_polls = 3
    client = make_client(simulator, simulator.sim.mint_token(NIP), sleep=sleeps)
    assert client.check_connection().can_send
    assert len(sleeps.calls) >= 3 and sleeps.calls == sorted(sleeps.calls)  # growing delays
    simulator.sim.auth.pending_polls = 10_000
    slow = make_client(
        simulator, simulator.sim.mint_token(NIP), poll_policy=PollPolicy(initial=0.05, max_delay=0.1, timeout=0.4)
    )
    with pytest.raises(KsefTimeout) as err:
        slow.check_connection()
    assert "uwierzytelnianie" in err.value.message_pl


def test_offline_mode_and_technical_correction_fields_are_sent(simulator, make_client, make_invoice):
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    result = client.send_invoices([("off", make_invoice(), {"offline_mode": True})])["off"]
    assert result.ok and result.invoicing_mode == "Offline"


def test_problem_details_errors_are_parsed_too(simulator, make_client):
    for problem in (False, True):
        client = make_client(simulator, simulator.sim.mint_token(NIP), problem_details=problem)
        with pytest.raises(KsefApiError) as err:
            client.api("GET", "/sessions", params={"pageSize": 10})  # sessionType missing
        assert err.value.http_status == 400 and err.value.exception_codes == [21405]
        assert err.value.code == "validation_error"


def test_pem_certificate_and_encrypted_key(simulator, make_client):
    credential = make_test_certificate(nip=NIP, key_type="rsa")
    cert_pem, key_pem = credential.certificate_pem(), credential.private_key_pem(password="pw")
    client = make_client(simulator, certificate=load_credential(cert_pem, "pw", key_data=key_pem))
    assert client.check_connection().certificate_not_after == credential.info().not_after


def test_export_in_several_parts(simulator, make_client, make_invoice):
    simulator.sim.invoice_store.configure(permanent_storage_delay=0, export_part_size=3000)
    made = {}
    for _ in range(5):
        xml = make_invoice(seller_nip="1111111111", buyer_nip=NIP)
        made[simulator.sim.seed_incoming(xml)] = xml
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    since = (simulator.sim.clock.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    export = client.export({"subjectType": "Subject2", "dateRange": {"dateType": "PermanentStorage", "from": since}})
    items = {i.ksef_number: i.xml for i in export}
    assert len(export.package.parts) > 1
    assert items == made


def test_latarnia_status(simulator):
    client = KsefClient(custom_api_url=simulator.base_url, nip=NIP, latarnia_url=simulator.latarnia_url)
    assert client.latarnia_status()["available"]
    simulator.sim.set_latarnia("FAILURE", message="Awaria testowa")
    status = client.latarnia_status()
    assert status["status"] == "FAILURE" and not status["available"] and status["messages"]
    client.close()
    assert KsefClient("PROD").latarnia_url == ENVIRONMENTS["PROD"].latarnia_url
