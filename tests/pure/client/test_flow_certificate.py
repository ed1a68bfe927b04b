"""Certificate (XAdES) login against the simulator, and certificate input errors without any request."""

import datetime

import pytest

from ksef_core.certgen import make_test_certificate
from ksef_core.client import KsefClient
from ksef_core.credentials import Credential, load_credential
from ksef_core.errors import CredentialError

NIP = "5265877635"
UTC = datetime.timezone.utc


@pytest.mark.parametrize("key_type", ["ec", "rsa"])
def test_certificate_login_and_connection_check(simulator, make_client, make_invoice, key_type):
    credential = make_test_certificate(nip=NIP, key_type=key_type)
    client = make_client(simulator, certificate=credential)
    report = client.check_connection()
    assert report.method == "certificate" and report.context == "Nip:" + NIP
    assert report.can_send and report.can_receive  # the owner has every permission
    assert report.certificate_not_after == credential.info().not_after
    assert report.to_dict()["certificate_not_before"]
    assert client.send_invoices([("c", make_invoice())])["c"].ok


def test_certificate_from_pkcs12_with_password(simulator, make_client):
    p12 = make_test_certificate(nip=NIP).to_pkcs12(password="s3cret")
    client = make_client(simulator, certificate=load_credential(p12, "s3cret"))
    assert client.check_connection().can_send
    # or handed to the client as file bytes
    client = make_client(simulator, certificate=p12, certificate_password="s3cret")
    assert client.check_connection().method == "certificate"
    pem = make_test_certificate(nip=NIP, key_type="rsa")
    client = make_client(
        simulator,
        certificate=pem.certificate_pem(),
        private_key=pem.private_key_pem(password="k"),
        certificate_password="k",
    )
    assert client.check_connection().can_receive


def _no_request(simulator, build):
    before = simulator.sim.request_count
    with pytest.raises(CredentialError) as err:
        build()
    assert simulator.sim.request_count == before
    assert err.value.message_pl != err.value.message_en
    return err.value


def test_certificate_input_errors_make_no_request(simulator):
    url = simulator.base_url
    p12 = make_test_certificate(nip=NIP).to_pkcs12(password="right")
    err = _no_request(simulator, lambda: load_credential(p12, "wrong"))
    assert err.code == "password_wrong" and "right" not in err.message_en
    err = _no_request(
        simulator, lambda: KsefClient(custom_api_url=url, nip=NIP, certificate=p12, certificate_password="wrong")
    )
    assert err.code == "password_wrong"
    now = datetime.datetime.now(UTC)
    expired = make_test_certificate(
        nip=NIP, not_before=now - datetime.timedelta(days=400), not_after=now - datetime.timedelta(days=1)
    )
    err = _no_request(simulator, lambda: KsefClient(custom_api_url=url, nip=NIP, certificate=expired))
    assert err.code == "cert_expired"
    other_key = make_test_certificate(nip=NIP, key_type="rsa").private_key
    mismatched = Credential(make_test_certificate(nip=NIP).certificate, other_key)
    err = _no_request(simulator, lambda: KsefClient(custom_api_url=url, nip=NIP, certificate=mismatched))
    assert err.code == "key_mismatch"
    offline = make_test_certificate(nip=NIP, usage="Offline")
    err = _no_request(simulator, lambda: KsefClient(custom_api_url=url, nip=NIP, certificate=offline))
    assert err.code == "usage_mismatch"


def test_certificate_expiring_during_the_client_lifetime(simulator, make_client):
    now = simulator.sim.clock.now()
    credential = make_test_certificate(nip=NIP, not_after=now + datetime.timedelta(days=3))
    client = make_client(simulator, certificate=credential)
    client.check_connection()
    simulator.sim.clock.advance(8 * 24 * 3600)  # refresh token gone too: a new login is needed
    before = simulator.sim.request_count
    with pytest.raises(CredentialError) as err:
        client.api("GET", "/sessions", params={"pageSize": 10, "sessionType": "Online"})
    assert err.value.code == "cert_expired" and simulator.sim.request_count == before
