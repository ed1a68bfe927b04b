"""XAdES-BES signing/verification of AuthTokenRequest (ksef_core.xades)."""

import base64
import copy
import datetime
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from jdk_xmldsig import HAS_JAVA, jdk_verdicts
from lxml import etree

from ksef_core import certgen
from ksef_core.errors import InputError
from ksef_core.xades import (
    XadesError,
    build_auth_token_request,
    sign_enveloped,
    verify_enveloped,
)

UTC = datetime.timezone.utc
CHALLENGE = "20250604-CR-461EA5B000-537A6BA15D-D7"
NIP = "5265877635"
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def request_xml():
    return build_auth_token_request(CHALLENGE, "Nip", NIP)


@pytest.fixture(scope="module")
def ec_cred():
    return certgen.make_test_certificate(nip=NIP, key_type="ec")


@pytest.fixture(scope="module")
def rsa_cred():
    return certgen.make_test_certificate(nip=NIP, key_type="rsa")


def _c14n(data):
    return etree.tostring(etree.fromstring(data), method="c14n")


@pytest.mark.parametrize(
    ("sample", "ctx_type", "ctx_value", "subject_type"),
    [
        ("AuthTokenRequest_context-identifier-nip.xml", "Nip", NIP, "certificateSubject"),
        (
            "AuthTokenRequest_context-identifier-internal-id.xml",
            "InternalId",
            NIP + "-12345",
            "certificateSubject",
        ),
        (
            "AuthTokenRequest_context-identifier-nip-vat-ue.xml",
            "NipVatUe",
            NIP + "-ATU12345678",
            "certificateSubject",
        ),
        (
            "AuthTokenRequest_subject-identifier-type-certificate-fingerprint.xml",
            "Nip",
            NIP,
            "certificateFingerprint",
        ),
    ],
)
def test_build_matches_official_samples(spec_dir, sample, ctx_type, ctx_value, subject_type):
    built = build_auth_token_request(CHALLENGE, ctx_type, ctx_value, subject_identifier_type=subject_type)
    official = (spec_dir / "samples" / "auth" / sample).read_bytes()
    assert _c14n(built) == _c14n(official)


def _schema_21(spec_dir, as_version):
    text = (spec_dir / "xsd" / "auth" / "schemat_auth_v2-1.xsd").read_bytes()
    if as_version == "2.0":
        text = text.replace(b"http://ksef.mf.gov.pl/auth/token/2.1", b"http://ksef.mf.gov.pl/auth/token/2.0")
    return etree.XMLSchema(etree.fromstring(text))


def test_official_2_0_xsd_is_rejected_by_libxml2(spec_dir):
    # API-NOTES: the 2.0 XSD's IP patterns (^...\b...$) are not XSD regexes. If a future
    # libxml2 accepts them, the built request must validate against it as well.
    xsd = etree.parse(str(spec_dir / "xsd" / "auth" / "schemat_auth_v2-0.xsd"))
    try:
        schema = etree.XMLSchema(xsd)
    except etree.XMLSchemaParseError as exc:
        assert "pattern" in str(exc)
    else:
        assert schema.validate(etree.fromstring(build_auth_token_request(CHALLENGE, "Nip", NIP)))


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_built_request_validates_against_xsd(spec_dir, version):
    schema = _schema_21(spec_dir, version)
    ips = {"ip4Addresses": ["10.0.0.1"], "ip4Ranges": ["10.0.0.1-10.0.0.9"], "ip4Masks": ["192.168.0.0/16"]}
    for ctx_type, value, allowed in (
        ("Nip", NIP, None),
        ("InternalId", NIP + "-00001", ips),
    ):
        doc = etree.fromstring(
            build_auth_token_request(
                CHALLENGE, ctx_type, value, allowed_ips=allowed, namespace_version=version
            )
        )
        assert schema.validate(doc), schema.error_log
        assert etree.QName(doc).namespace == "http://ksef.mf.gov.pl/auth/token/%s" % version
    # NipVatUe / PeppolId: the XSD patterns contain ^ and $, which XSD engines (libxml2)
    # read as literal characters, so correct values cannot validate (API-NOTES §2.3).
    peppol = etree.fromstring(
        build_auth_token_request(CHALLENGE, "PeppolId", "PPL123456", namespace_version=version)
    )
    assert not schema.validate(peppol)
    # the Java client's 2.0 XSD (sane regexes) accepts the 2.0 document too
    java_xsd = etree.XMLSchema(
        etree.parse(str(spec_dir / "xsd" / "auth" / "AuthTokenRequest_ksef-client-java.xsd"))
    )
    assert java_xsd.validate(etree.fromstring(build_auth_token_request(CHALLENGE, "Nip", NIP)))


@pytest.mark.parametrize(
    ("challenge", "ctx_type", "value", "code"),
    [
        ("not-a-challenge", "Nip", NIP, "auth_challenge_invalid"),
        (CHALLENGE, "Nip", "5265877636", "auth_context_value_invalid"),  # bad NIP checksum
        (CHALLENGE, "InternalId", NIP, "auth_context_value_invalid"),
        (CHALLENGE, "Pesel", "90010112345", "auth_context_type_invalid"),
    ],
)
def test_build_refuses_bad_input(challenge, ctx_type, value, code):
    with pytest.raises(InputError) as exc:
        build_auth_token_request(challenge, ctx_type, value)
    assert exc.value.code == code
    assert exc.value.message_pl != exc.value.message_en


@pytest.mark.parametrize("variant", ["ec", "rsa", "rsa-pss"])
def test_round_trip(request_xml, ec_cred, rsa_cred, variant):
    cred = ec_cred if variant == "ec" else rsa_cred
    signed = sign_enveloped(request_xml, cred, rsa_pss=variant == "rsa-pss")
    result = verify_enveloped(signed, check_certificate=True)
    assert result.certificate == cred.certificate
    expected_method = {
        "ec": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        "rsa": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "rsa-pss": "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
    }[variant]
    assert result.signature_method == expected_method
    assert _c14n(etree.tostring(result.signed_root)) == _c14n(request_xml)
    age = datetime.datetime.now(UTC) - result.signing_time
    assert datetime.timedelta(seconds=50) < age < datetime.timedelta(seconds=120)
    if variant == "ec":
        raw = etree.fromstring(signed).findtext(".//{http://www.w3.org/2000/09/xmldsig#}SignatureValue")
        assert len(base64.b64decode(raw)) == 64  # raw R||S for P-256, not DER


def test_profile_structure(request_xml, ec_cred):
    doc = etree.fromstring(sign_enveloped(request_xml, ec_cred))
    ns = {"ds": "http://www.w3.org/2000/09/xmldsig#", "xades": "http://uri.etsi.org/01903/v1.3.2#"}
    sig = doc.find("ds:Signature", ns)
    assert sig is not None and sig.get("Id") == "Signature"
    refs = sig.findall("ds:SignedInfo/ds:Reference", ns)
    assert [r.get("URI") for r in refs] == ["", "#SignedProperties"]
    assert refs[1].get("Type") == "http://uri.etsi.org/01903#SignedProperties"
    assert [t.get("Algorithm") for t in refs[0].findall("ds:Transforms/ds:Transform", ns)] == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        "http://www.w3.org/2001/10/xml-exc-c14n#",
    ]
    sp = sig.find("ds:Object/xades:QualifyingProperties/xades:SignedProperties", ns)
    assert sp.get("Id") == "SignedProperties"
    assert sp.find(".//xades:SigningCertificate/xades:Cert/xades:CertDigest", ns) is not None
    serial = sp.findtext(".//xades:IssuerSerial/ds:X509SerialNumber", namespaces=ns)
    assert int(serial) == ec_cred.certificate.serial_number
    assert sig.find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", ns) is not None


def _expect(data, ksef_code, reason=None):
    with pytest.raises(XadesError) as exc:
        verify_enveloped(data)
    assert exc.value.ksef_code == ksef_code
    if reason:
        assert exc.value.details.get("reason") == reason
    assert exc.value.message_en and exc.value.message_pl != exc.value.message_en
    return exc.value


@pytest.mark.parametrize("key", ["ec", "rsa"])
def test_tampered_challenge(request_xml, ec_cred, rsa_cred, key):
    signed = sign_enveloped(request_xml, ec_cred if key == "ec" else rsa_cred)
    forged = signed.replace(b"537A6BA15D-D7", b"537A6BA15D-D8")
    assert forged != signed
    _expect(forged, 9105, "digest_mismatch")


def test_tampered_signed_properties(request_xml, ec_cred):
    signed = sign_enveloped(request_xml, ec_cred)
    forged = re.sub(rb"<xades:SigningTime>\d{4}", b"<xades:SigningTime>2019", signed)
    assert forged != signed
    _expect(forged, 9105, "digest_mismatch")


def test_tampered_signature_value_and_swapped_certificate(request_xml, ec_cred):
    signed = sign_enveloped(request_xml, ec_cred)
    doc = etree.fromstring(signed)
    ns = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
    sv = doc.find(".//ds:SignatureValue", ns)
    sv.text = sv.text[:10] + ("A" if sv.text[10] != "A" else "B") + sv.text[11:]
    _expect(etree.tostring(doc), 9105, "signature_mismatch")
    # replacing the certificate (another key) breaks the SigningCertificate binding
    other = certgen.make_test_certificate(nip=NIP, key_slot=7)
    doc = etree.fromstring(signed)
    doc.find(".//ds:X509Certificate", ns).text = base64.b64encode(other.certificate_der()).decode()
    _expect(etree.tostring(doc), 9105, "signing_certificate_mismatch")


def test_unsigned_garbage_and_double_signature(request_xml, ec_cred):
    _expect(request_xml, 9102)
    _expect(b"<not-xml", 9101)
    _expect(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", 9101)
    signed = sign_enveloped(request_xml, ec_cred)
    doc = etree.fromstring(signed)
    sig = doc[-1]
    doc.append(copy.deepcopy(sig))
    _expect(etree.tostring(doc), 9103)


def test_detached_reference_refused(request_xml, ec_cred):
    signed = sign_enveloped(request_xml, ec_cred)
    forged = signed.replace(b'URI=""', b'URI="https://example.com/doc.xml"', 1)
    _expect(forged, 9105, "detached")


def test_signature_without_document_reference_refused(request_xml, ec_cred):
    # a valid signature over SignedProperties only (the enveloped Reference removed) must not pass
    signed = sign_enveloped(request_xml, ec_cred)
    doc = etree.fromstring(signed)
    ns = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
    ref = doc.find(".//ds:SignedInfo/ds:Reference", ns)
    ref.getparent().remove(ref)
    err = _expect(etree.tostring(doc), 9105)
    assert err.details["reason"] in ("not_enveloped", "signature_mismatch")


def test_certificate_problems_are_21115(request_xml, ec_cred):
    signed = sign_enveloped(request_xml, ec_cred)
    doc = etree.fromstring(signed)
    ns = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
    doc.find(".//ds:X509Certificate", ns).text = "AAAA"
    _expect(etree.tostring(doc), 21115)
    now = datetime.datetime.now(UTC)
    expired = certgen.make_test_certificate(
        nip=NIP, not_before=now - datetime.timedelta(days=10), not_after=now - datetime.timedelta(days=1)
    )
    signed = sign_enveloped(request_xml, expired, check=False)
    assert verify_enveloped(signed).certificate == expired.certificate  # signature itself is fine
    with pytest.raises(XadesError) as exc:
        verify_enveloped(signed, check_certificate=True)
    assert exc.value.ksef_code == 21115 and exc.value.details["reason"] == "cert_expired"


def test_sign_refuses_offline_certificate(request_xml):
    from ksef_core.errors import CredentialError

    offline = certgen.make_test_certificate(nip=NIP, usage="Offline")
    with pytest.raises(CredentialError) as exc:
        sign_enveloped(request_xml, offline)
    assert exc.value.code == "usage_mismatch"


def _moved_signature(signed):
    """The same signed document with ds:Signature moved to the first child position.

    The signed content (document minus the Signature element) is unchanged: the text
    before the first child now follows the Signature (its lxml "tail").  A correct
    enveloped-signature transform removes only the element, not that text.
    """
    doc = etree.fromstring(signed)
    sig = doc[-1]
    doc.remove(sig)
    sig.tail, doc.text = doc.text, ""
    doc.insert(0, sig)
    return etree.tostring(doc)


def test_signature_anywhere_in_document_keeps_following_text(request_xml, ec_cred):
    moved = _moved_signature(sign_enveloped(request_xml, ec_cred))
    assert verify_enveloped(moved)
    # ...while changing that text is detected
    _expect(moved.replace(b"</ds:Signature>\n", b"</ds:Signature>\n ", 1), 9105, "digest_mismatch")


@pytest.mark.slow
@pytest.mark.skipif(not HAS_JAVA, reason="java not installed")
def test_independent_verifier_accepts_our_signatures(request_xml, ec_cred, rsa_cred, tmp_path):
    """The JDK's own XML-DSig implementation validates what we produce (interoperability)."""
    files = []
    for name, cred, pss in (("ec", ec_cred, False), ("rsa", rsa_cred, False), ("pss", rsa_cred, True)):
        path = tmp_path / ("signed_%s.xml" % name)
        path.write_bytes(sign_enveloped(request_xml, cred, rsa_pss=pss))
        files.append(str(path))
    moved = tmp_path / "signed_moved.xml"
    moved.write_bytes(_moved_signature(sign_enveloped(request_xml, ec_cred)))
    files.append(str(moved))
    lines = jdk_verdicts(files)
    assert len(lines) == 4 and all("valid=true" in line for line in lines), lines


def test_inclusive_c14n_of_subtree_with_redefined_default_namespace():
    """Regression: libxml2's subtree C14N emits spurious xmlns="" (seen with JDK-made signatures)."""
    from ksef_core.xmldsig import C14N, c14n

    root = etree.fromstring(
        b'<a xmlns="urn:a" xmlns:q="urn:q" xml:lang="pl">'
        b'<S xmlns="urn:ds"><I><R><T><X/>t</T>u</R></I></S></a>'
    )
    assert c14n(root[0][0], C14N) == (
        b'<I xmlns="urn:ds" xmlns:q="urn:q" xml:lang="pl"><R><T><X></X>t</T>u</R></I>'
    )


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="java not installed")
@pytest.mark.parametrize("key", ["ec", "rsa"])
def test_accepts_signature_made_by_independent_producer(request_xml, ec_cred, rsa_cred, key, tmp_path):
    """A XAdES-BES made by the JDK (inclusive C14N, unprefixed ds, signature first, SHA-512
    CertDigest, .NET-style 7-digit SigningTime) verifies; tampering it still fails."""
    from cryptography.hazmat.primitives import serialization

    cred = ec_cred if key == "ec" else rsa_cred
    (tmp_path / "in.xml").write_bytes(request_xml)
    (tmp_path / "key.der").write_bytes(
        cred.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (tmp_path / "cert.der").write_bytes(cred.certificate_der())
    out = subprocess.run(
        ["java", str(HERE / "XadesSign.java")]
        + [str(tmp_path / n) for n in ("in.xml", "key.der", "cert.der", "out.xml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    signed = (tmp_path / "out.xml").read_bytes()
    assert b"<Signature xmlns=" in signed  # really a foreign layout
    result = verify_enveloped(signed, check_certificate=True)
    assert result.certificate == cred.certificate
    assert result.signing_time == datetime.datetime(2026, 1, 2, 2, 4, 5, 123456, tzinfo=datetime.timezone.utc)
    assert _c14n(etree.tostring(result.signed_root)) == _c14n(request_xml)
    _expect(signed.replace(b"CR-461EA5B000", b"CR-461EA5B001"), 9105, "digest_mismatch")


def test_unsupported_transform_and_duplicate_ids_refused(request_xml, ec_cred):
    signed = sign_enveloped(request_xml, ec_cred)
    xslt = signed.replace(
        b"http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        b"http://www.w3.org/TR/1999/REC-xslt-19991116",
    )
    _expect(xslt, 9105, "transform_unsupported")
    # signature wrapping: a second element carrying the referenced Id makes the reference ambiguous
    doc = etree.fromstring(signed)
    # (placed inside ds:Signature, i.e. outside the content covered by the URI="" reference)
    extra_object = etree.SubElement(doc[-1], "{http://www.w3.org/2000/09/xmldsig#}Object")
    decoy = etree.SubElement(extra_object, "{http://uri.etsi.org/01903/v1.3.2#}SignedProperties")
    decoy.set("Id", "SignedProperties")
    _expect(etree.tostring(doc), 9105, "reference_target")
