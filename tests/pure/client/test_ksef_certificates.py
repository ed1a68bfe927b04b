"""KSeF certificates through the client against the simulator: enrolment, download, use, listing, revocation.

ksef-docs certyfikaty-KSeF.md: a certificate is requested by an identity signed in with a XAdES signature
(qualified certificate, seal, Profil Zaufany or a KSeF certificate), never with a KSeF token (25001/25002);
the request carries exactly the enrolment data; Authentication certificates sign in, Offline ones do not.
"""

import pytest

from ksef_core.certenroll import build_csr, check_issued, generate_key
from ksef_core.certgen import make_test_certificate
from ksef_core.client import CertificatesApi, KsefApiError, KsefAuthError, KsefProcessingError
from ksef_core.credentials import check_for_offline_signing
from ksef_core.errors import CredentialError, InputError

NIP = "5265877635"
OTHER_NIP = "7740001454"
PESEL = "44051401359"


def _enrol(client, key, data, certificate_type="Authentication", name="Odoo KSeF test"):
    api = client.certificates
    ref = api.enroll(build_csr(key, data), name, certificate_type)
    serial = api.wait_for_enrollment(ref, timeout=10)["serial"]
    return serial, api.retrieve([serial])[0]


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_enrol_use_list_and_revoke_a_ksef_certificate(simulator, make_client, kind):
    """The whole life of a KSeF certificate: a self-made "qualified" certificate (as TEST accepts) signs in,
    requests an Authentication certificate for the same person, which then signs in itself until revoked."""
    qualified = make_test_certificate(nip=NIP, given_name="Anna", surname="Nowak")
    client = make_client(simulator, certificate=qualified)
    api = client.certificates
    limits = api.limits()
    assert limits == {
        "can_request": True,
        "enrollment": {"limit": 300, "remaining": 300},
        "certificate": {"limit": 100, "remaining": 100},
    }
    data = api.enrollment_data()
    assert data == {
        "commonName": "Anna Nowak",
        "givenName": "Anna",
        "surname": "Nowak",
        "serialNumber": "TINPL-" + NIP,
        "countryName": "PL",
    }
    key = generate_key(kind)
    ref = api.enroll(build_csr(key, data), "Odoo KSeF test", "Authentication")
    first = api.enrollment_status(ref)
    assert (first["code"], first["serial"], first["final"]) == (100, None, False)  # asynchronous
    done = api.wait_for_enrollment(ref, timeout=10)
    assert done["code"] == 200 and len(done["serial"]) == 16
    cert = api.retrieve([done["serial"]])[0]
    assert (cert["serial"], cert["type"], cert["name"]) == (done["serial"], "Authentication", "Odoo KSeF test")

    credential = check_issued(cert["der"], key, data, "Authentication")
    info = credential.info()
    assert info.is_ksef_issued and info.usage == "Authentication" and info.nip == NIP
    assert (info.not_after - info.not_before).days in (730, 731)  # two years
    assert api.limits()["certificate"]["remaining"] == 99

    ksef_client = make_client(simulator, certificate=credential)
    report = ksef_client.check_connection()
    assert report.can_send and report.context == "Nip:" + NIP
    listed = api.query(status="Active")
    assert [c["serial"] for c in listed] == [done["serial"]]
    assert listed[0]["subject_identifier"] == {"type": "Nip", "value": NIP}
    assert listed[0]["last_use_date"] is not None and listed[0]["common_name"] == "Anna Nowak"

    api.revoke(done["serial"], "Superseded")
    assert [c["serial"] for c in api.query(status="Revoked")] == [done["serial"]]
    assert api.query(status="Active") == []
    with pytest.raises(KsefAuthError) as err:
        make_client(simulator, certificate=credential).check_connection()
    assert err.value.code == "auth_bad_certificate" and err.value.details["status"] == 460
    with pytest.raises(KsefApiError) as err:
        api.revoke(done["serial"])
    assert err.value.code == "certificate_not_revocable" and err.value.exception_codes == [25009]


def test_token_session_cannot_request_certificates(simulator, make_client):
    client = make_client(simulator, token=simulator.sim.mint_token(NIP))
    api = client.certificates
    assert api.limits()["can_request"] is False
    with pytest.raises(KsefApiError) as err:
        api.enrollment_data()
    assert err.value.code == "certificates_need_xades" and err.value.exception_codes == [25001]
    assert "KSeF token" in err.value.message_en and "tokenem KSeF" in err.value.message_pl
    csr = build_csr(generate_key(), {"commonName": "Jan Testowy", "countryName": "PL"})
    with pytest.raises(KsefApiError) as err:
        api.enroll(csr, "From a token", "Authentication")
    assert err.value.code == "certificates_need_xades" and err.value.exception_codes == [25002]
    with pytest.raises(KsefApiError) as err:
        api.revoke("0123456789ABCDEF")
    assert err.value.http_status == 403


def test_offline_certificate_is_issued_but_cannot_sign_in(simulator, make_client):
    client = make_client(simulator, certificate=make_test_certificate(nip=NIP))
    data = client.certificates.enrollment_data()
    key = generate_key()
    _serial, cert = _enrol(client, key, data, "Offline", "KOD II offline")
    assert cert["type"] == "Offline"
    credential = check_issued(cert["der"], key, data, "Offline")
    assert credential.info().usage == "Offline"
    assert check_for_offline_signing(credential).is_ksef_issued  # fit for KOD II of offline invoices
    with pytest.raises(CredentialError) as err:  # refused before any request
        make_client(simulator, certificate=credential)
    assert err.value.code == "usage_mismatch"
    # signed outside and sent anyway: KSeF refuses it (21115)
    from ksef_core.xades import sign_enveloped

    prepared = client.prepare_signed_login()
    signed = sign_enveloped(prepared["xml"], credential, check=False)
    with pytest.raises(KsefApiError) as err:
        make_client(simulator).login_with_signed_request(signed, prepared)
    assert err.value.exception_codes == [21115]
    with pytest.raises(CredentialError) as err:
        check_issued(cert["der"], key, data, "Authentication")
    assert err.value.code == "enrolled_type_mismatch"


def test_limits_of_a_person_and_wrong_subject(simulator, make_client):
    """PESEL identity: 12 requests, 6 active certificates; a request with other data is refused (25003)."""
    simulator.sim.grant(NIP, PESEL, ["InvoiceRead"])
    client = make_client(simulator, certificate=make_test_certificate(pesel=PESEL, key_type="ec", key_slot=7))
    api = client.certificates
    data = api.enrollment_data()
    assert data["serialNumber"] == "PNOPL-" + PESEL
    assert api.limits()["enrollment"] == {"limit": 12, "remaining": 12}

    with pytest.raises(KsefApiError) as err:
        api.enroll(build_csr(generate_key(), dict(data, surname="Kowalska")), "Wrong subject", "Authentication")
    assert err.value.code == "certificate_subject_mismatch" and err.value.exception_codes == [25003]
    assert "surname" in " ".join(err.value.descriptions)

    serials = [_enrol(client, generate_key(), data, name="Cert %d" % i)[0] for i in range(6)]
    limits = api.limits()
    assert limits["certificate"] == {"limit": 6, "remaining": 0} and limits["can_request"] is False
    with pytest.raises(KsefApiError) as err:
        api.enroll(build_csr(generate_key(), data), "Seventh", "Authentication")
    assert err.value.code == "certificate_limit" and err.value.exception_codes == [25007]
    assert len(api.query(page_size=10)) == 6 and len(api.query_all()) == 6

    for serial in serials:  # revoking frees the active slots, but requests stay counted
        api.revoke(serial, "KeyCompromise")
    for i in range(6):
        _enrol(client, generate_key(), data, name="Again %d" % i)
    assert api.limits()["enrollment"]["remaining"] == 0
    with pytest.raises(KsefApiError) as err:
        api.enroll(build_csr(generate_key(), data), "Thirteenth", "Authentication")
    assert err.value.code == "certificate_enrollment_limit" and err.value.exception_codes == [25006]
    assert len(api.query(status="Revoked", page_size=10)) == 6


def test_expired_ksef_certificate_and_key_checks(simulator, make_client):
    client = make_client(simulator, certificate=make_test_certificate(nip=NIP))
    data = client.certificates.enrollment_data()
    key = generate_key()
    serial, cert = _enrol(client, key, data)
    with pytest.raises(CredentialError) as err:
        check_issued(cert["der"], generate_key(), data)
    assert err.value.code == "enrolled_key_mismatch"
    with pytest.raises(CredentialError) as err:
        check_issued(cert["der"], key, dict(data, givenName="Piotr"))
    assert err.value.code == "enrolled_subject_mismatch"

    credential = check_issued(cert["der"], key, data)
    simulator.sim.certificates.expire(serial)
    assert client.certificates.query(status="Expired")[0]["serial"] == serial
    with pytest.raises(KsefAuthError) as err:
        make_client(simulator, certificate=credential).check_connection()
    assert err.value.details["status"] == 460


def test_bare_transport_and_input_errors_without_a_request(simulator, make_client):
    client = make_client(simulator, certificate=make_test_certificate(nip=NIP))
    client.tokens.login()
    api = CertificatesApi(client.transport, access_token=client.token_state.access_token)
    assert api.enrollment_data()["serialNumber"] == "TINPL-" + NIP
    before = simulator.sim.request_count
    for call, code in (
        (lambda: api.enroll(b"csr", "abc", "Authentication"), "certificate_name_invalid"),
        (lambda: api.enroll(b"csr", "Good name", "Both"), "certificate_type_invalid"),
        (lambda: api.enrollment_status("nope"), "reference_invalid"),
        (lambda: api.retrieve(["12345"]), "certificate_serial_invalid"),
        (lambda: api.revoke("0123456789ABCDEF", "Lost"), "revocation_reason_invalid"),
        (lambda: api.query(status="Gone"), "certificate_status_invalid"),
        (lambda: generate_key("dsa"), "key_type_unknown"),
    ):
        with pytest.raises(InputError) as err:
            call()
        assert err.value.code == code
    assert simulator.sim.request_count == before


def test_rejected_enrolment_raises_with_the_reason(simulator, make_client):
    """KSeF refuses to certify a public key already certified for another identity (status 400)."""
    key = generate_key()
    first = make_client(simulator, certificate=make_test_certificate(nip=NIP))
    _enrol(first, key, first.certificates.enrollment_data())
    second = make_client(simulator, nip=OTHER_NIP, certificate=make_test_certificate(nip=OTHER_NIP, key_slot=6))
    ref = second.certificates.enroll(build_csr(key, second.certificates.enrollment_data()), "Same key", "Offline")
    with pytest.raises(KsefProcessingError) as err:
        second.certificates.wait_for_enrollment(ref, timeout=10)
    assert err.value.code == "certificate_enrollment_rejected" and err.value.status_code == 400
    assert "certyfikowany przez inny podmiot" in err.value.message_pl
