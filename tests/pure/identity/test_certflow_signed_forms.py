"""The signed login request is checked in Odoo before KSeF sees it, but never more strictly than KSeF.

KSeF accepts enveloped and enveloping XAdES and, besides the enveloped-signature and canonicalisation
transforms, xmldsig-filter2 and base64 (API-NOTES §2.3). The local verifier knows only the common forms;
a signature it cannot verify in one of the forms KSeF accepts is left to KSeF, while what was signed (the
very request of the challenge, for this company) is still checked.
"""

import datetime

import independent_xades
import pytest
from lxml import etree

from ksef_core import certflow
from ksef_core.certgen import make_test_certificate
from ksef_core.xades import build_auth_token_request, sign_enveloped
from ksef_core.xmldsig import DS

NIP = "5265877635"
CHALLENGE = "20261207-CR-1234567890-ABCDEF0123-45"
NOW = datetime.datetime(2026, 12, 7, 8, 0, tzinfo=datetime.timezone.utc)
FILTER2 = "http://www.w3.org/2002/06/xmldsig-filter2"


def request(challenge=CHALLENGE):
    return certflow.SigningRequest(
        challenge=challenge, issued_at=NOW, xml=build_auth_token_request(challenge, "Nip", NIP, "certificateSubject")
    )


def signed(req):
    return sign_enveloped(req.xml, make_test_certificate(nip=NIP), check=False)


def with_filter2(document):
    """The first reference with an XPath Filter 2.0 step the local verifier does not evaluate (an ``intersect``
    of a part of the document): a form KSeF accepts (API-NOTES §2.3), whose signature is left to KSeF."""
    root = etree.fromstring(document)
    transforms = root.find(".//{%s}Reference/{%s}Transforms" % (DS, DS))
    transform = etree.SubElement(transforms, "{%s}Transform" % DS, Algorithm=FILTER2)
    etree.SubElement(transform, "{%s}XPath" % FILTER2, Filter="intersect").text = "//*[local-name()='Challenge']"
    return etree.tostring(root)


def test_a_plain_enveloped_signature_is_verified_here():
    assert certflow.check_signed_request(signed(request()), request(), NIP, NOW) is not None


def test_a_transform_ksef_accepts_is_left_to_ksef_what_was_signed_is_still_checked():
    document = with_filter2(signed(request()))
    assert certflow.check_signed_request(document, request(), NIP, NOW) is None  # KSeF verifies the signature
    other = with_filter2(signed(request("20261207-CR-1234567890-ABCDEF0123-99")))
    with pytest.raises(Exception) as refused:
        certflow.check_signed_request(other, request(), NIP, NOW)
    assert refused.value.code == "signed_other_document"
    with pytest.raises(Exception) as refused:
        certflow.check_signed_request(document, request(), "7740001454", NOW)
    assert refused.value.code == "signed_other_context"


def test_a_transform_ksef_refuses_is_still_refused_here():
    root = etree.fromstring(signed(request()))
    transforms = root.find(".//{%s}Reference/{%s}Transforms" % (DS, DS))
    etree.SubElement(transforms, "{%s}Transform" % DS, Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116")
    with pytest.raises(Exception) as refused:
        certflow.check_signed_request(etree.tostring(root), request(), NIP, NOW)
    assert refused.value.code == "signed_not_xades"


@pytest.mark.parametrize("form", independent_xades.FORMS)
def test_every_form_ksef_accepts_is_verified_here_as_a_signing_tool_makes_it(form):
    """Enveloped, enveloping (the request in a ds:Object, as is or base64-encoded), XPath Filter 2.0: signed by a
    signer that shares no code with the addon."""
    seal = make_test_certificate(nip=NIP, seal=True)
    document = independent_xades.sign(request().xml, seal.private_key, seal.certificate, form)
    verified = certflow.check_signed_request(document, request(), NIP, NOW)
    assert verified is not None and verified.certificate == seal.certificate
    other = independent_xades.sign(
        request("20261207-CR-1234567890-ABCDEF0123-99").xml, seal.private_key, seal.certificate, form
    )
    with pytest.raises(Exception) as refused:
        certflow.check_signed_request(other, request(), NIP, NOW)
    assert refused.value.code == "signed_other_document"


def test_an_enveloping_signature_is_read_by_the_client():
    from ksef_core.client.signed_login import read_signed_request

    seal = make_test_certificate(nip=NIP, seal=True)
    for form in ("enveloping", "enveloping-base64"):
        document = independent_xades.sign(request().xml, seal.private_key, seal.certificate, form)
        assert read_signed_request(document) == (CHALLENGE, "Nip", NIP), form
