"""KSeF certificate endpoints of the simulator spoken to as a third-party SDK would (raw HTTP): exact paths,
JSON field names, status codes and exception codes of the 2.6.0/2.7.0 contract (``/certificates/*``)."""

import base64
import re

import pytest
from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ksef_core.certenroll import build_csr, build_name, generate_key
from ksef_core.certgen import make_test_certificate
from ksef_core.credentials import Credential
from ksef_core.x509util import load_der_certificate

NIP = "5265877635"
REF_RE = re.compile(r"^\d{8}-EH-[0-9A-F]{10}-[0-9A-F]{10}-[0-9A-F]{2}$")
LIST_FIELDS = {
    "certificateSerialNumber",
    "name",
    "type",
    "commonName",
    "status",
    "subjectIdentifier",
    "validFrom",
    "validTo",
    "lastUseDate",
    "requestDate",
}


def _code(resp):
    return resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"]


def _enroll(api, tokens, csr_der, name="Certyfikat testowy", ctype="Authentication"):
    body = {"certificateName": name, "certificateType": ctype, "csr": base64.b64encode(csr_der).decode()}
    return api.http.post(api.url("/certificates/enrollments"), json=body, headers=api.bearer(tokens))


def _status(api, tokens, ref):
    resp = api.http.get(api.url("/certificates/enrollments/%s" % ref), headers=api.bearer(tokens))
    assert resp.status_code == 200, resp.text
    return resp.json()


def _issue(api, tokens, key, ctype="Authentication", name="Certyfikat testowy"):
    data = api.http.get(api.url("/certificates/enrollments/data"), headers=api.bearer(tokens)).json()
    resp = _enroll(api, tokens, build_csr(key, data), name, ctype)
    assert resp.status_code == 202, resp.text
    ref = resp.json()["referenceNumber"]
    _status(api, tokens, ref)
    serial = _status(api, tokens, ref)["certificateSerialNumber"]
    resp = api.http.post(
        api.url("/certificates/retrieve"), json={"certificateSerialNumbers": [serial]}, headers=api.bearer(tokens)
    )
    der = base64.b64decode(resp.json()["certificates"][0]["certificate"])
    return serial, Credential(load_der_certificate(der), key)


def test_contract_shapes_of_the_whole_flow(api, xades):
    _start, login = xades
    tokens = login(api, make_test_certificate(nip=NIP, given_name="Jan", surname="Kowalski"))
    resp = api.http.get(api.url("/certificates/limits"), headers=api.bearer(tokens))
    assert resp.json() == {
        "canRequest": True,
        "enrollment": {"remaining": 300, "limit": 300},
        "certificate": {"remaining": 100, "limit": 100},
    }
    data = api.http.get(api.url("/certificates/enrollments/data"), headers=api.bearer(tokens)).json()
    assert data == {
        "commonName": "Jan Kowalski",
        "givenName": "Jan",
        "surname": "Kowalski",
        "serialNumber": "TINPL-" + NIP,
        "countryName": "PL",
    }
    resp = _enroll(api, tokens, build_csr(generate_key(), data))
    assert resp.status_code == 202 and set(resp.json()) == {"referenceNumber", "timestamp"}
    ref = resp.json()["referenceNumber"]
    assert REF_RE.match(ref)
    first = _status(api, tokens, ref)
    assert first == {
        "requestDate": resp.json()["timestamp"],
        "status": {"code": 100, "description": "Wniosek przyjęty do realizacji"},
    }
    second = _status(api, tokens, ref)
    assert second["status"] == {"code": 200, "description": "Wniosek obsłużony (certyfikat wygenerowany)"}
    serial = second["certificateSerialNumber"]
    assert re.fullmatch(r"[0-9A-F]{16}", serial)

    resp = api.http.post(
        api.url("/certificates/retrieve"), json={"certificateSerialNumbers": [serial]}, headers=api.bearer(tokens)
    )
    (item,) = resp.json()["certificates"]
    assert set(item) == {"certificate", "certificateName", "certificateSerialNumber", "certificateType"}
    cert = x509.load_der_x509_certificate(base64.b64decode(item["certificate"]), default_backend())
    assert "%016X" % cert.serial_number == serial
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and not ku.content_commitment

    resp = api.http.post(
        api.url("/certificates/query?pageSize=10&pageOffset=0"),
        json={"type": "Authentication"},
        headers=api.bearer(tokens),
    )
    body = resp.json()
    assert body["hasMore"] is False and set(body["certificates"][0]) == LIST_FIELDS
    assert body["certificates"][0]["subjectIdentifier"] == {"type": "Nip", "value": NIP}
    resp = api.http.post(
        api.url("/certificates/%s/revoke" % serial),
        json={"revocationReason": "KeyCompromise"},
        headers=api.bearer(tokens),
    )
    assert resp.status_code == 204 and resp.content == b""
    resp = api.http.post(api.url("/certificates/query"), json={"status": "Revoked"}, headers=api.bearer(tokens))
    assert [c["certificateSerialNumber"] for c in resp.json()["certificates"]] == [serial]


def test_enrolment_data_of_a_seal_and_of_an_old_style_serial(api, xades):
    _start, login = xades
    tokens = login(api, make_test_certificate(nip=NIP, seal=True, organization="Firma Testowa Sp. z o.o."))
    data = api.http.get(api.url("/certificates/enrollments/data"), headers=api.bearer(tokens)).json()
    assert data == {
        "commonName": "Firma Testowa Sp. z o.o.",
        "organizationName": "Firma Testowa Sp. z o.o.",
        "organizationIdentifier": "VATPL-" + NIP,
        "countryName": "PL",
    }
    # a CSR with the seal's data (VATPL-…) gets a seal certificate
    _serial, credential = _issue(api, tokens, generate_key())
    assert credential.info().is_seal and credential.info().nip == NIP


def test_refusals_with_the_contract_codes(api, xades):
    _start, login = xades
    tokens = login(api, make_test_certificate(nip=NIP))
    data = api.http.get(api.url("/certificates/enrollments/data"), headers=api.bearer(tokens)).json()
    assert _enroll(api, tokens, build_csr(generate_key(), data), name="Abc").status_code == 400
    assert _code(_enroll(api, tokens, build_csr(generate_key(), data), name="Abc")) == 21405
    assert _code(_enroll(api, tokens, build_csr(generate_key(), data), ctype="Both")) == 21405
    assert _code(_enroll(api, tokens, b"\x30\x03\x02\x01\x00")) == 25004
    assert _code(_enroll(api, tokens, build_csr(generate_key(), dict(data, commonName="Ktoś Inny")))) == 25003
    for key in (
        rsa.generate_private_key(65537, 1024, default_backend()),
        ec.generate_private_key(ec.SECP384R1(), default_backend()),
    ):
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(build_name(data))
            .sign(key, hashes.SHA256(), default_backend())
        )
        assert _code(_enroll(api, tokens, csr.public_bytes(serialization.Encoding.DER))) == 25010
    key = generate_key()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(build_name(data))
        .sign(key, hashes.SHA224(), default_backend())
    )
    assert _code(_enroll(api, tokens, csr.public_bytes(serialization.Encoding.DER))) == 25011
    resp = api.http.get(
        api.url("/certificates/enrollments/20260101-EH-0000000000-0000000000-00"), headers=api.bearer(tokens)
    )
    assert _code(resp) == 25005
    resp = api.http.post(api.url("/certificates/0123456789ABCDEF/revoke"), json={}, headers=api.bearer(tokens))
    assert _code(resp) == 25008
    resp = api.http.post(api.url("/certificates/query?pageSize=5"), json={}, headers=api.bearer(tokens))
    assert _code(resp) == 21405
    resp = api.http.post(
        api.url("/certificates/retrieve"),
        json={"certificateSerialNumbers": ["0123456789ABCDEF"] * 11},
        headers=api.bearer(tokens),
    )
    assert _code(resp) == 21405
    # nothing refused was counted as a request
    assert (
        api.http.get(api.url("/certificates/limits"), headers=api.bearer(tokens)).json()["enrollment"]["remaining"]
        == 300
    )


def test_token_session_gets_25001_and_25002(api):
    tokens = api.login(api.sim.mint_token(NIP))
    resp = api.http.get(api.url("/certificates/enrollments/data"), headers=api.bearer(tokens))
    assert resp.status_code == 400 and _code(resp) == 25001
    resp = api.http.get(
        api.url("/certificates/enrollments/data"),
        headers=dict(api.bearer(tokens), **{"X-Error-Format": "problem-details"}),
    )
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert resp.json()["errors"][0]["code"] == 25001
    csr = build_csr(generate_key(), {"commonName": "Jan Testowy", "countryName": "PL"})
    resp = _enroll(api, tokens, csr)
    assert resp.status_code == 400 and _code(resp) == 25002
    assert api.http.get(api.url("/certificates/limits"), headers=api.bearer(tokens)).json()["canRequest"] is False
    resp = api.http.post(api.url("/certificates/0123456789ABCDEF/revoke"), json={}, headers=api.bearer(tokens))
    assert resp.status_code == 403


def test_key_already_certified_for_another_identity_is_rejected(api, xades):
    _start, login = xades
    key = generate_key()
    first = login(api, make_test_certificate(nip=NIP))
    _issue(api, first, key)
    other_nip = "7740001454"
    second = login(api, make_test_certificate(nip=other_nip, key_slot=4), nip=other_nip)
    data = api.http.get(api.url("/certificates/enrollments/data"), headers=api.bearer(second)).json()
    ref = _enroll(api, second, build_csr(key, data)).json()["referenceNumber"]
    _status(api, second, ref)
    final = _status(api, second, ref)
    assert final["status"]["code"] == 400 and "certificateSerialNumber" not in final
    assert final["status"]["details"] == ["Klucz publiczny został już certyfikowany przez inny podmiot."]
    # another identity cannot see the enrolment at all
    resp = api.http.get(api.url("/certificates/enrollments/%s" % ref), headers=api.bearer(first))
    assert _code(resp) == 25005


def test_ksef_certificate_login_rules(api, xades):
    """A KSeF certificate signs in as its identity (here a certificate fingerprint granted InvoiceRead),
    passes ``verifyCertificateChain`` (issued by the CA), an Offline one is refused, a revoked one gets 460."""
    start, login = xades
    qualified = make_test_certificate(nip="7740001454", key_slot=5)
    fingerprint = qualified.info().fingerprint_sha256
    api.sim.grant(NIP, {"type": "Fingerprint", "value": fingerprint}, ["InvoiceRead"])
    tokens = login(api, qualified, subject_type="certificateFingerprint")
    serial, ksef_cert = _issue(api, tokens, generate_key())
    init = start(api, ksef_cert, query="?verifyCertificateChain=true")
    assert init.status_code == 202
    assert api.status(init.json())["status"]["code"] == 200
    listed = api.http.post(api.url("/certificates/query"), json={}, headers=api.bearer(tokens)).json()
    assert listed["certificates"][0]["subjectIdentifier"] == {"type": "Fingerprint", "value": fingerprint}
    # without the grant the same KSeF certificate has no permission in the context
    api.sim.revoke_grant(NIP, {"type": "Fingerprint", "value": fingerprint})
    assert api.status(start(api, ksef_cert).json())["status"]["code"] == 415
    api.sim.grant(NIP, {"type": "Fingerprint", "value": fingerprint}, ["InvoiceRead"])

    _serial, offline = _issue(api, tokens, generate_key(), "Offline", "Offline KOD II")
    resp = start(api, offline, check=False)
    assert resp.status_code == 400 and _code(resp) == 21115

    api.sim.certificates.revoke(serial, "KeyCompromise")
    status = api.status(start(api, ksef_cert).json())["status"]
    assert status["code"] == 460 and status["details"] == ["Certyfikat unieważniony."]


def test_testdata_update_expires_a_certificate(api, xades):
    start, login = xades
    tokens = login(api, make_test_certificate(nip=NIP))
    serial, ksef_cert = _issue(api, tokens, generate_key())
    now = api.sim.clock.now().isoformat()
    resp = api.http.put(
        api.url("/testdata/certificates/%s" % serial), json={"validTo": now}, headers=api.bearer(tokens)
    )
    assert resp.status_code == 200, resp.text
    api.sim.clock.advance(1)
    resp = api.http.post(api.url("/certificates/query"), json={"status": "Expired"}, headers=api.bearer(tokens))
    assert [c["certificateSerialNumber"] for c in resp.json()["certificates"]] == [serial]
    assert api.status(start(api, ksef_cert).json())["status"]["code"] == 460


@pytest.mark.parametrize("pending", [0, 3])
def test_processing_delay_is_configurable(api, xades, pending):
    _start, login = xades
    api.sim.certificates.pending_polls = pending
    tokens = login(api, make_test_certificate(nip=NIP))
    data = api.http.get(api.url("/certificates/enrollments/data"), headers=api.bearer(tokens)).json()
    ref = _enroll(api, tokens, build_csr(generate_key(), data)).json()["referenceNumber"]
    codes = [_status(api, tokens, ref)["status"]["code"] for _ in range(pending + 1)]
    assert codes == [100] * pending + [200]


def test_admin_api_lists_revokes_and_configures(api, xades):
    from ksef_core.simulator.admin_client import SimulatorAdmin

    start, login = xades
    admin = SimulatorAdmin.for_api_url(api.base)
    assert admin.certificate_config(pending_polls=0, limits={"Nip": [5, 2]})["limits"]["Nip"] == [5, 2]
    tokens = login(api, make_test_certificate(nip=NIP))
    limits = api.http.get(api.url("/certificates/limits"), headers=api.bearer(tokens)).json()
    assert limits["enrollment"]["limit"] == 5 and limits["certificate"]["limit"] == 2
    serial, ksef_cert = _issue(api, tokens, generate_key())
    listed = admin.certificates()
    ca = x509.load_der_x509_certificate(base64.b64decode(listed["caCertificate"]), default_backend())
    assert ksef_cert.certificate.issuer == ca.subject
    assert [c["certificateSerialNumber"] for c in listed["certificates"]] == [serial]
    admin.revoke_certificate(serial, "KeyCompromise")
    assert api.status(start(api, ksef_cert).json())["status"]["code"] == 460
    serial2, _cred = _issue(api, tokens, generate_key())
    admin.expire_certificate(serial2)
    statuses = {c["certificateSerialNumber"]: c["status"] for c in admin.certificates()["certificates"]}
    assert statuses == {serial: "Revoked", serial2: "Expired"}


def test_certificates_and_ca_survive_a_restart(tmp_path, ksef_http, xades):
    from ksef_core.simulator.testing import running_simulator

    _start, login = xades
    with running_simulator(data_dir=str(tmp_path)) as server:
        api = ksef_http(server)
        tokens = login(api, make_test_certificate(nip=NIP))
        serial, ksef_cert = _issue(api, tokens, generate_key())
        ca_der = server.sim.certificates.ca.certificate_der
    with running_simulator(data_dir=str(tmp_path)) as server:
        api = ksef_http(server)
        assert server.sim.certificates.ca.certificate_der == ca_der
        tokens = login(api, ksef_cert)  # the KSeF certificate still signs in
        listed = api.http.post(api.url("/certificates/query"), json={}, headers=api.bearer(tokens)).json()
        assert [c["certificateSerialNumber"] for c in listed["certificates"]] == [serial]
