"""The forms of XAdES signature KSeF accepts for a login (API-NOTES §2.3: enveloped or enveloping, the
enveloped-signature, XPath Filter 2.0 and base64 transforms), made by a signer that shares no code with the
addon (``independent_xades``), verified by the addon's verifier (the simulator's login with each form:
``simulator_core/test_xades_auth.py``)."""

import base64

import independent_xades
import pytest
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
