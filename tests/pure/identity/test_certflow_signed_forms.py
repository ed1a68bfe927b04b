"""The signed login request is checked in Odoo before KSeF sees it, but never more strictly than KSeF.

KSeF accepts enveloped and enveloping XAdES and, besides the enveloped-signature and canonicalisation
transforms, xmldsig-filter2 and base64 (API-NOTES §2.3). The local verifier knows only the common forms;
a signature it cannot verify in one of the forms KSeF accepts is left to KSeF, while what was signed (the
very request of the challenge, for this company) is still checked.
"""

import datetime

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
    """The first reference's transforms as some signing tools write them: an xmldsig-filter2 transform."""
    root = etree.fromstring(document)
    transforms = root.find(".//{%s}Reference/{%s}Transforms" % (DS, DS))
    etree.SubElement(transforms, "{%s}Transform" % DS, Algorithm=FILTER2)
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


def enveloping(document):
    """The same signature made enveloping, as some signing tools offer: ds:Signature is the root and the request
    sits in its ds:Object (the signature value is not recomputed: KSeF, not Odoo, verifies this form)."""
    root = etree.fromstring(document)
    signature = root.find("{%s}Signature" % DS)
    root.remove(signature)
    obj = etree.SubElement(signature, "{%s}Object" % DS)
    obj.append(root)
    return etree.tostring(signature)


def test_an_enveloping_signature_is_left_to_ksef_and_read_by_the_client():
    from ksef_core.client.signed_login import read_signed_request

    document = enveloping(signed(request()))
    assert certflow.check_signed_request(document, request(), NIP, NOW) is None
    assert read_signed_request(document) == (CHALLENGE, "Nip", NIP)
    with pytest.raises(Exception) as refused:
        certflow.check_signed_request(
            enveloping(signed(request("20261207-CR-1234567890-ABCDEF0123-99"))), request(), NIP, NOW
        )
    assert refused.value.code == "signed_other_document"
