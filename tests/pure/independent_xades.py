"""A XAdES-BES signer written apart from the addon: what a user's signing application produces.

It shares no code with ``ksef_core.xades`` / ``ksef_core.xmldsig`` (lxml's own canonicalisation, cryptography's
own signatures, its own layout), so a test signing with it proves that the addon and the simulator accept a
signature they did not make. It writes the forms KSeF accepts (API-NOTES §2.3) the way signing tools write them:

* ``enveloped``: the signature as the last child of the request, ``Reference URI=""`` with the
  enveloped-signature transform (Profil Zaufany, qualified-signature applications);
* ``enveloping``: ``ds:Signature`` as the root, the request inside a ``ds:Object Id="Document"``;
* ``enveloping-base64``: the same, the request carried base64-encoded and the reference decoding it;
* ``filter2``: enveloped, with an XPath Filter 2.0 transform subtracting the signature.

Inclusive C14N for SignedInfo, RSA PKCS#1 v1.5 or ECDSA (raw ``R||S``) with SHA-256, the ``dsig`` prefix, a
SigningTime in UTC with a ``Z``: other choices than the addon's own signer.
"""

import base64
import datetime
import hashlib
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
from lxml import etree

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
FILTER2 = "http://www.w3.org/2002/06/xmldsig-filter2"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
FORMS = ("enveloped", "enveloping", "enveloping-base64", "filter2")


def _c14n(node):
    """Inclusive C14N 1.0 of an element in its document (its in-scope namespaces rendered on it)."""
    return etree.tostring(node, method="c14n", exclusive=False, with_comments=False)


def _b64digest(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _el(parent, name, text=None, ns=DS, **attrib):
    element = etree.SubElement(parent, "{%s}%s" % (ns, name), **attrib)
    if text is not None:
        element.text = text
    return element


def _reference(signed_info, uri, transforms, ref_type=None):
    reference = _el(signed_info, "Reference", URI=uri, **({"Type": ref_type} if ref_type else {}))
    if transforms:
        box = _el(reference, "Transforms")
        for algorithm, build in transforms:
            transform = _el(box, "Transform", Algorithm=algorithm)
            if build:
                build(transform)
    _el(reference, "DigestMethod", Algorithm=SHA256)
    return _el(reference, "DigestValue")


def _subtract_signature(transform):
    xpath = etree.SubElement(transform, "{%s}XPath" % FILTER2, Filter="subtract", nsmap={"dsig-xpath": FILTER2})
    xpath.text = "here()/ancestor::dsig:Signature[1]"


def sign(document, private_key, certificate, form="enveloped", signing_time=None):
    """``document`` (bytes) signed with XAdES-BES in ``form``; returns bytes."""
    assert form in FORMS, form
    doc_root = etree.fromstring(document)
    sig_id = "Sig-%s" % uuid.uuid4().hex[:8]
    props_id = sig_id + "-SignedProperties"
    nsmap = {"dsig": DS}
    signature = etree.Element("{%s}Signature" % DS, Id=sig_id, nsmap=nsmap)
    signed_info = _el(signature, "SignedInfo")
    _el(signed_info, "CanonicalizationMethod", Algorithm=C14N)
    is_ec = isinstance(private_key, ec.EllipticCurvePrivateKey)
    method = "http://www.w3.org/2001/04/xmldsig-more#" + ("ecdsa-sha256" if is_ec else "rsa-sha256")
    _el(signed_info, "SignatureMethod", Algorithm=method)

    if form in ("enveloped", "filter2"):
        # the digest of the request as it is, before the signature goes in (what the transform gives back)
        content_digest = _b64digest(_c14n(doc_root.getroottree()))
        if form == "enveloped":
            transforms = [(DS + "enveloped-signature", None), (C14N, None)]
        else:
            transforms = [(FILTER2, _subtract_signature), (C14N, None)]
        content_value = _reference(signed_info, "", transforms)
    else:
        content_value = _reference(
            signed_info, "#Document", [(DS + "base64", None)] if form == "enveloping-base64" else [(C14N, None)]
        )
    props_value = _reference(signed_info, "#" + props_id, [(C14N, None)], "http://uri.etsi.org/01903#SignedProperties")
    signature_value = _el(signature, "SignatureValue")
    key_info = _el(signature, "KeyInfo")
    der = certificate.public_bytes(serialization.Encoding.DER)
    _el(_el(key_info, "X509Data"), "X509Certificate", base64.b64encode(der).decode())
    if form.startswith("enveloping"):
        content = _el(signature, "Object", Id="Document")
        if form == "enveloping":
            content.append(doc_root)
        else:
            content.text = base64.b64encode(document).decode()
    qualifying = _el(_el(signature, "Object"), "QualifyingProperties", ns=XADES, Target="#" + sig_id)
    props = _el(qualifying, "SignedProperties", ns=XADES, Id=props_id)
    signed_sig_props = _el(props, "SignedSignatureProperties", ns=XADES)
    when = signing_time or datetime.datetime.now(datetime.timezone.utc)
    _el(signed_sig_props, "SigningTime", when.strftime("%Y-%m-%dT%H:%M:%SZ"), ns=XADES)
    cert_v2 = _el(_el(signed_sig_props, "SigningCertificate", ns=XADES), "Cert", ns=XADES)
    cert_digest = _el(cert_v2, "CertDigest", ns=XADES)
    _el(cert_digest, "DigestMethod", Algorithm=SHA256)
    _el(cert_digest, "DigestValue", _b64digest(der))
    serial = _el(cert_v2, "IssuerSerial", ns=XADES)
    _el(serial, "X509IssuerName", certificate.issuer.rfc4514_string())
    _el(serial, "X509SerialNumber", str(certificate.serial_number))

    if form in ("enveloped", "filter2"):
        doc_root.append(signature)
        out_root = doc_root
    else:
        out_root = signature
        content_digest = (
            _b64digest(document)
            if form == "enveloping-base64"
            else _b64digest(_c14n(signature.find("{%s}Object" % DS)))
        )
    content_value.text = content_digest
    props_value.text = _b64digest(_c14n(props))
    data = _c14n(signed_info)
    if is_ec:
        r, s = utils.decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
        size = (private_key.curve.key_size + 7) // 8
        raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    else:
        raw = private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    signature_value.text = base64.b64encode(raw).decode()
    return etree.tostring(out_root, xml_declaration=True, encoding="UTF-8")
