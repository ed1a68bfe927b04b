"""The forms of XAdES signature KSeF accepts for a login (API-NOTES §2.3: enveloped or enveloping, the
enveloped-signature, XPath Filter 2.0 and base64 transforms), made by a signer that shares no code with the
addon (``independent_xades``), verified by the addon's verifier (the simulator's login with each form:
``simulator_core/test_xades_auth.py``)."""

import base64

import independent_xades
import pytest
from jdk_xmldsig import HAS_JAVA, jdk_verdicts
from lxml import etree

from ksef_core.certgen import make_test_certificate
from ksef_core.xades import XadesError, build_auth_token_request, verify_enveloped
from ksef_core.xmldsig import DS

NIP = "5265877635"
OTHER_NIP = "5272527149"
CHALLENGE = "20261207-CR-1234567890-ABCDEF0123-45"


@pytest.fixture(scope="module", params=["ec", "rsa"])
def seal(request):
    return make_test_certificate(nip=NIP, seal=True, key_type=request.param)


def request_xml(challenge=CHALLENGE, nip=NIP):
    return build_auth_token_request(challenge, "Nip", nip, "certificateSubject")


def reason(document):
    with pytest.raises(XadesError) as refused:
        verify_enveloped(document)
    return refused.value.ksef_code, (refused.value.details or {}).get("reason")


@pytest.mark.parametrize("form", independent_xades.FORMS)
def test_each_form_is_verified_and_gives_the_signed_request(seal, form):
    signed = independent_xades.sign(request_xml(), seal.private_key, seal.certificate, form)
    result = verify_enveloped(signed, check_certificate=True)
    assert result.certificate == seal.certificate
    assert etree.QName(result.signed_root).localname == "AuthTokenRequest"
    assert result.signed_root.findtext("{*}Challenge") == CHALLENGE
    assert not list(result.signed_root.iter("{%s}Signature" % DS)), "the signature is not part of what was signed"


@pytest.mark.parametrize("form", ["enveloping", "filter2"])
def test_changing_the_signed_request_is_detected(seal, form):
    signed = independent_xades.sign(request_xml(), seal.private_key, seal.certificate, form)
    assert reason(signed.replace(NIP.encode(), OTHER_NIP.encode(), 1)) == (9105, "digest_mismatch")


def test_changing_a_base64_carried_request_is_detected(seal):
    signed = independent_xades.sign(request_xml(), seal.private_key, seal.certificate, "enveloping-base64")
    root = etree.fromstring(signed)
    content = root.find("{%s}Object[@Id='Document']" % DS)
    content.text = base64.b64encode(request_xml(nip=OTHER_NIP)).decode()
    assert reason(etree.tostring(root)) == (9105, "digest_mismatch")


def test_an_enveloping_signature_must_sign_its_document(seal):
    """A signature whose only content reference is removed signs nothing a login could use."""
    signed = independent_xades.sign(request_xml(), seal.private_key, seal.certificate, "enveloping")
    root = etree.fromstring(signed)
    reference = root.find("{%s}SignedInfo/{%s}Reference[@URI='#Document']" % (DS, DS))
    reference.getparent().remove(reference)
    assert reason(etree.tostring(root)) == (9105, "not_enveloped")


def test_a_filter2_step_other_than_subtracting_is_not_evaluated(seal):
    signed = independent_xades.sign(request_xml(), seal.private_key, seal.certificate, "filter2")
    xpath = b"here()/ancestor::dsig:Signature[1]"
    assert reason(signed.replace(b'Filter="subtract"', b'Filter="intersect"', 1)) == (9105, "transform_unsupported")
    # the same node-set by a plain XPath: the content's digest holds, only the changed SignedInfo gives it away
    assert reason(signed.replace(xpath, b"/descendant::dsig:Signature", 1)) == (9105, "signature_mismatch")
    # subtracting the whole document would leave nothing signed
    assert reason(signed.replace(xpath, b"/*", 1)) == (9105, "transform_unsupported")


# ---------------------------------------------------------------------------- what an attacker may try


def _signed_root_nip(document):
    root = verify_enveloped(document).signed_root
    return root.findtext(".//{*}Nip")


def test_unsigned_objects_around_the_signed_one_are_never_taken(seal):
    """Signature wrapping: an unsigned ds:Object (as an element or base64) put before the signed one names another
    company; what the verifier returns as signed is still the signed request."""
    signed = independent_xades.sign(request_xml(), seal.private_key, seal.certificate, "enveloping")
    for extra in ("element", "base64"):
        root = etree.fromstring(signed)
        obj = etree.Element("{%s}Object" % DS, Id="Decoy")
        if extra == "element":
            obj.append(etree.fromstring(request_xml(nip=OTHER_NIP)))
        else:
            obj.text = base64.b64encode(request_xml(nip=OTHER_NIP)).decode()
        root.insert(list(root).index(root.find("{%s}Object" % DS)), obj)
        assert _signed_root_nip(etree.tostring(root)) == NIP, extra

        from ksef_core.client.signed_login import read_signed_request

        assert read_signed_request(etree.tostring(root))[2] == NIP, "the client reads the object the signature names"


@pytest.mark.parametrize(
    "expression",
    [
        # an EXSLT regular expression with catastrophic backtracking, a quadratic XPath, a broken regex
        "//*[re:test(.,'(a+)+b')]",
        "//*[count(preceding::*)=-1]",
        "//*[re:match(.,'[')]",
        # subtracting signed content too (here: everything carrying an Id starting like the signature's)
        "//*[starts-with(@Id,'Sig-')]",
    ],
)
def test_filter2_expressions_other_than_the_signature_are_not_evaluated(seal, expression):
    signed = independent_xades.sign(request_xml(), seal.private_key, seal.certificate, "filter2")
    hostile = signed.replace(b"here()/ancestor::dsig:Signature[1]", expression.encode(), 1).replace(
        b'Filter="subtract"', b'Filter="subtract" xmlns:re="http://exslt.org/regular-expressions"', 1
    )
    assert reason(hostile) == (9105, "transform_unsupported")


def test_too_many_references_are_refused_before_any_work(seal):
    signed = independent_xades.sign(request_xml(), seal.private_key, seal.certificate, "enveloped")
    root = etree.fromstring(signed)
    signed_info = root.find(".//{%s}SignedInfo" % DS)
    reference = signed_info.find("{%s}Reference" % DS)
    for _ in range(10):
        signed_info.append(etree.fromstring(etree.tostring(reference)))
    assert reason(etree.tostring(root)) == (9105, "structure")


@pytest.mark.slow
@pytest.mark.skipif(not HAS_JAVA, reason="java not installed")
def test_the_jdk_validates_every_form_of_the_independent_signer(tmp_path):
    """The independent signer itself is checked by a third implementation (the JDK's XML-DSig)."""
    seal = make_test_certificate(nip=NIP, seal=True, key_type="rsa")
    files = []
    for form in independent_xades.FORMS:
        path = tmp_path / ("%s.xml" % form)
        path.write_bytes(independent_xades.sign(request_xml(), seal.private_key, seal.certificate, form))
        files.append(str(path))
    lines = jdk_verdicts(files)
    assert len(lines) == len(files) and all("valid=true" in line for line in lines), lines
