"""Sign-in with an AuthTokenRequest signed outside the program (qualified signature, Profil Zaufany).

The user downloads the unsigned request, signs it (enveloped XAdES) and uploads it; the client checks it is
that very document, still within the challenge's 10 minutes (API-NOTES §2.1), and signed with XAdES, before
KSeF sees it. Here the user's signing application is ``ksef_core.xades.sign_enveloped``.
"""

import datetime

import pytest
from lxml import etree

from ksef_core.certgen import make_test_certificate
from ksef_core.client import KsefAuthError
from ksef_core.xades import sign_enveloped

NIP = "5265877635"
OTHER_NIP = "7740001454"


def _sign(xml, credential):
    return sign_enveloped(xml, credential, check=False)


def test_signed_request_signs_in_and_may_request_certificates(simulator, make_client):
    client = make_client(simulator)  # no credential stored at all
    prepared = client.prepare_signed_login()
    assert b"<Challenge>%s</Challenge>" % prepared["challenge"].encode() in prepared["xml"]
    assert b"<Nip>%s</Nip>" % NIP.encode() in prepared["xml"]
    assert prepared["valid_until"] - prepared["issued_at"] == datetime.timedelta(minutes=10)
    signed = _sign(prepared["xml"], make_test_certificate(nip=NIP))
    state = client.login_with_signed_request(signed, prepared)
    assert state.context == "Nip:" + NIP and state.access_token
    assert client.token_state is state
    # a XAdES session: the enrolment data are available
    assert client.certificates.enrollment_data()["serialNumber"] == "TINPL-" + NIP
    assert client.certificates.limits()["can_request"] is True


def test_signed_request_errors(simulator, make_client):
    client = make_client(simulator)
    credential = make_test_certificate(nip=NIP)
    prepared = client.prepare_signed_login()

    def refused(document, prepared=prepared):
        before = simulator.sim.request_count
        with pytest.raises(KsefAuthError) as err:
            client.login_with_signed_request(document, prepared)
        assert err.value.message_pl != err.value.message_en
        return err.value, simulator.sim.request_count - before

    err, requests = refused(prepared["xml"])
    assert err.code == "signed_request_not_signed" and requests == 0
    err, requests = refused(b"%PDF-1.7 not xml")
    assert err.code == "signed_request_unreadable" and requests == 0
    # a plain XML-DSig signature (no XAdES signed properties)
    tree = etree.fromstring(_sign(prepared["xml"], credential))
    for el in tree.iter("{http://uri.etsi.org/01903/v1.3.2#}QualifyingProperties"):
        el.getparent().remove(el)
    err, requests = refused(etree.tostring(tree))
    assert err.code == "signed_request_not_xades" and requests == 0
    # signed over another document: another request (other challenge), or not an AuthTokenRequest at all
    other = client.prepare_signed_login()
    err, requests = refused(_sign(other["xml"], credential))
    assert err.code == "signed_request_other_document" and requests == 0
    invoice = b'<?xml version="1.0"?><Faktura xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/"><A>1</A></Faktura>'
    err, requests = refused(_sign(invoice, credential))
    assert err.code == "signed_request_wrong_document" and requests == 0
    # the document changed after signing: KSeF finds the signature invalid
    tampered = _sign(prepared["xml"], credential).replace(NIP.encode(), b"5260250274", 1)
    err, requests = refused(tampered, None)
    assert err.code == "signed_request_refused" and requests == 1 and err.details["ksef"]

    # the challenge expired: found by the client when it knows the request, else by KSeF
    late = client.prepare_signed_login()
    signed = _sign(late["xml"], credential)
    simulator.sim.clock.advance(11 * 60)
    err, requests = refused(signed, late)
    assert err.code == "signed_request_challenge_expired" and requests == 0
    err, requests = refused(signed, None)
    assert err.code == "signed_request_challenge_expired" and requests == 1


def test_signer_without_permissions_in_the_context(simulator, make_client):
    client = make_client(simulator)
    prepared = client.prepare_signed_login()
    stranger = make_test_certificate(nip=OTHER_NIP, key_slot=3)  # owner of another NIP, nothing granted here
    with pytest.raises(KsefAuthError) as err:
        client.login_with_signed_request(_sign(prepared["xml"], stranger), prepared)
    assert err.value.code == "auth_no_permissions" and err.value.details["status"] == 415
    # once granted, the same signer gets in
    simulator.sim.grant(NIP, OTHER_NIP, ["InvoiceRead"])
    prepared = client.prepare_signed_login()
    assert client.login_with_signed_request(_sign(prepared["xml"], stranger), prepared).access_token
