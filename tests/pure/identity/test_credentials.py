"""Loading, inspecting and checking certificates/keys (ksef_core.credentials, certgen)."""

import base64
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import serialization

from ksef_core import certgen
from ksef_core.credentials import (
    Credential,
    check_for_authentication,
    check_for_offline_signing,
    load_certificate,
    load_certificate_and_key,
    load_credential,
    load_pkcs12,
)
from ksef_core.errors import CredentialError

UTC = datetime.timezone.utc
NIP = "5265877635"


def _assert_bilingual(err, code):
    assert err.code == code
    assert err.message_en and err.message_pl
    assert err.message_en != err.message_pl


def test_personal_auth_certificate_info():
    cred = certgen.make_test_certificate(nip=NIP, key_type="rsa")
    info = cred.info()
    assert info.nip == NIP and info.pesel is None
    assert "serialNumber=TINPL-5265877635" in info.subject
    assert "GN=Jan" in info.subject and "SN=Testowy" in info.subject
    assert info.usage == "Authentication"
    assert info.key_type == "RSA" and info.key_size == 2048
    assert len(info.serial_hex) == 16 and info.serial_hex == info.serial_hex.upper()
    assert int(info.serial_hex, 16) == cred.certificate.serial_number
    assert len(info.fingerprint_sha256) == 64 and info.fingerprint_sha256.isupper()
    assert info.not_before.tzinfo is not None and info.is_valid_at(datetime.datetime.now(UTC))
    assert check_for_authentication(cred).nip == NIP


def test_seal_and_pesel_certificates():
    seal = certgen.make_test_certificate(nip=NIP, seal=True, organization="Beta")
    info = seal.info()
    assert "organizationIdentifier=VATPL-5265877635" in info.subject
    assert "GN=" not in info.subject and "SN=" not in info.subject
    assert info.nip == NIP and info.key_type == "EC" and info.curve == "secp256r1"
    person = certgen.make_test_certificate(pesel="90010112345")
    assert person.info().pesel == "90010112345" and person.info().nip is None


def test_official_ksef_certificate_info(spec_dir):
    pem = (spec_dir / "test-vectors" / "kod2-test-cert-01F20A5D352AE590.pem").read_bytes()
    info = Credential(load_certificate(pem)).info()
    assert info.serial_hex == "01F20A5D352AE590"
    assert info.fingerprint_sha256 == ("8BF30676AC95EC1B270A8B130A7CDB13FF093F68ACAFE00FCD9EF48C81395371")
    assert info.subject == "CN=5265877635,O=Beta,organizationIdentifier=VATPL-5265877635,C=PL"
    assert info.nip == NIP and info.is_ksef_issued and info.usage == "Authentication"
    assert info.not_after == datetime.datetime(2027, 7, 29, 9, 28, 37, tzinfo=UTC)


def test_pkcs12_round_trip_and_wrong_password():
    ca = certgen.make_test_ca()
    cred = certgen.make_test_certificate(nip=NIP, issuer=ca, key_slot=4)
    p12 = cred.to_pkcs12("Tajne-hasło-91")
    loaded = load_pkcs12(p12, "Tajne-hasło-91")
    assert loaded.certificate_der() == cred.certificate_der()
    assert loaded.private_key is not None
    assert [c.subject for c in loaded.chain] == [ca.certificate.subject]
    with pytest.raises(CredentialError) as exc:
        load_pkcs12(p12, "Inne-hasło-77")
    _assert_bilingual(exc.value, "password_wrong")
    assert "Inne-hasło-77" not in exc.value.bilingual()  # the password is never echoed
    with pytest.raises(CredentialError) as exc:
        load_pkcs12(p12, None)
    _assert_bilingual(exc.value, "password_wrong")
    # an unencrypted p12 loads without password
    assert load_pkcs12(cred.to_pkcs12(None), None).private_key is not None


def test_garbage_file_is_unreadable():
    for loader in (
        lambda: load_pkcs12(b"this is not a certificate", "x"),
        lambda: load_certificate(b"\x00\x01garbage"),
        lambda: load_certificate_and_key(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
    ):
        with pytest.raises(CredentialError) as exc:
            loader()
        _assert_bilingual(exc.value, "file_unreadable")
        assert "PKCS#12" in exc.value.message_en and "PEM" in exc.value.message_pl


def test_pem_and_der_cert_with_key():
    ca = certgen.make_test_ca()
    cred = certgen.make_test_certificate(nip=NIP, issuer=ca, key_slot=3)
    bundle = cred.chain_pem()
    key_pem = cred.private_key_pem()
    loaded = load_certificate_and_key(bundle, key_pem)
    assert loaded.certificate_der() == cred.certificate_der()
    assert [c.subject for c in loaded.chain] == [ca.certificate.subject]
    # bundle in the "wrong" order still picks the certificate matching the key
    reordered = ca.certificate_pem() + cred.certificate_pem()
    assert load_certificate_and_key(reordered, key_pem).certificate_der() == cred.certificate_der()
    # DER certificate + DER PKCS#1-less (PKCS#8) key, encrypted
    key_der = cred.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw12345"),
    )
    loaded = load_certificate_and_key(cred.certificate_der(), key_der, "pw12345")
    assert loaded.private_key is not None
    with pytest.raises(CredentialError) as exc:
        load_certificate_and_key(cred.certificate_der(), key_der, "bad")
    _assert_bilingual(exc.value, "password_wrong")
    with pytest.raises(CredentialError) as exc:
        load_certificate_and_key(cred.certificate_pem(), cred.private_key_pem("pw12345"))
    _assert_bilingual(exc.value, "password_wrong")
    # combined PEM (cert + key in one file) and the generic loader
    combined = cred.certificate_pem() + cred.private_key_pem()
    assert load_credential(combined).private_key is not None
    assert load_credential(cred.to_pkcs12("a"), "a").private_key is not None


def test_key_of_another_certificate():
    cred = certgen.make_test_certificate(nip=NIP, key_slot=0)
    other = certgen.make_test_certificate(nip=NIP, key_slot=1)
    with pytest.raises(CredentialError) as exc:
        load_certificate_and_key(cred.certificate_pem(), other.private_key_pem())
    _assert_bilingual(exc.value, "key_mismatch")
    with pytest.raises(CredentialError) as exc:
        check_for_authentication(Credential(cred.certificate, other.private_key))
    _assert_bilingual(exc.value, "key_mismatch")


def test_expired_and_not_yet_valid():
    now = datetime.datetime.now(UTC)
    expired = certgen.make_test_certificate(
        nip=NIP, not_before=now - datetime.timedelta(days=800), not_after=now - datetime.timedelta(days=1)
    )
    with pytest.raises(CredentialError) as exc:
        check_for_authentication(expired)
    _assert_bilingual(exc.value, "cert_expired")
    assert expired.info().not_after.strftime("%Y-%m-%d") in exc.value.message_en
    assert expired.info().not_after.strftime("%Y-%m-%d") in exc.value.message_pl
    future = certgen.make_test_certificate(nip=NIP, not_before=now + datetime.timedelta(days=3))
    with pytest.raises(CredentialError) as exc:
        check_for_offline_signing(future)
    assert exc.value.code == "cert_not_yet_valid"
    # ...but it is fine at a moment inside its validity
    check_for_authentication(future, now=now + datetime.timedelta(days=4))


def test_usage_mismatch_both_ways():
    offline = certgen.make_test_certificate(nip=NIP, usage="Offline")
    auth = certgen.make_test_certificate(nip=NIP, usage="Authentication")
    with pytest.raises(CredentialError) as exc:
        check_for_authentication(offline)
    _assert_bilingual(exc.value, "usage_mismatch")
    assert "Offline" in exc.value.message_en and "Offline" in exc.value.message_pl
    with pytest.raises(CredentialError) as exc:
        check_for_offline_signing(auth)
    _assert_bilingual(exc.value, "usage_mismatch")
    assert "Authentication" in exc.value.message_en
    assert check_for_offline_signing(offline).usage == "Offline"


def test_weak_keys_refused():
    weak = certgen.make_test_certificate(nip=NIP, key_type="rsa1024")
    with pytest.raises(CredentialError) as exc:
        check_for_authentication(weak)
    _assert_bilingual(exc.value, "key_too_weak")
    assert "1024" in exc.value.message_en
    k1 = certgen.make_test_certificate(nip=NIP, key_type="ec-k256")
    with pytest.raises(CredentialError) as exc:
        check_for_authentication(k1)
    _assert_bilingual(exc.value, "key_too_weak")
    assert (
        check_for_authentication(certgen.make_test_certificate(nip=NIP, key_type="ec-p384")).key_size == 384
    )


def test_missing_private_key():
    cred = certgen.make_test_certificate(nip=NIP)
    with pytest.raises(CredentialError) as exc:
        check_for_authentication(Credential(cred.certificate))
    _assert_bilingual(exc.value, "key_missing")


def test_private_key_pem_reloads_with_cryptography():
    cred = certgen.make_test_certificate(nip=NIP, key_type="rsa")
    pem = cred.private_key_pem("x1")
    key = serialization.load_pem_private_key(pem, b"x1", default_backend())
    assert key.private_numbers() == cred.private_key.private_numbers()


def test_certificate_as_returned_by_the_api_bare_base64():
    cred = certgen.make_test_certificate(nip=NIP)
    b64 = base64.b64encode(cred.certificate_der())
    assert load_certificate(b64) == cred.certificate


def test_ksef_test_ca_quirk_keeps_original_der(spec_dir):
    """The TEST CA writes NULL params in ecdsa-with-SHA512; newer cryptography refuses that.

    Whatever the installed version does, the loaded certificate reports the DER exactly
    as issued (fingerprint, export), and the patched form parses everywhere."""
    from ksef_core.x509util import strip_ecdsa_null_params

    pem = (spec_dir / "test-vectors" / "kod2-test-cert-01F20A5D352AE590.pem").read_bytes()
    original = base64.b64decode(b"".join(pem.strip().splitlines()[1:-1]))
    patched = strip_ecdsa_null_params(original)
    assert patched is not None and len(patched) == len(original) - 4
    assert x509.load_der_x509_certificate(patched, default_backend()).serial_number == 0x01F20A5D352AE590
    cred = Credential(load_certificate(pem))
    assert cred.certificate_der() == original
    assert load_certificate(cred.certificate_pem()).serial_number == 0x01F20A5D352AE590
    assert strip_ecdsa_null_params(certgen.make_test_certificate(nip=NIP).certificate_der()) is None
