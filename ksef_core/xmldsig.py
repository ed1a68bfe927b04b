"""Low-level XML-DSig pieces for :mod:`ksef_core.xades`: algorithm tables, reference
processing (enveloped-signature, XPath-enveloped and C14N transforms), canonicalisation
and raw signature values (ECDSA as ``R||S``).  Pure lxml + cryptography.
"""

import copy
import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from lxml import etree

from .errors import KsefError
from .hashing import b64decode

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
AUTH_NS = {"2.0": "http://ksef.mf.gov.pl/auth/token/2.0", "2.1": "http://ksef.mf.gov.pl/auth/token/2.1"}
SIGNED_PROPS_TYPE = "http://uri.etsi.org/01903#SignedProperties"

ENVELOPED = DS + "enveloped-signature"
BASE64 = DS + "base64"
FILTER2 = "http://www.w3.org/2002/06/xmldsig-filter2"
XPATH_TRANSFORM = "http://www.w3.org/TR/1999/REC-xpath-19991116"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
C14N_METHODS = {  # uri -> (exclusive, with_comments); C14N 1.1 ≈ 1.0 for these documents
    C14N: (False, False),
    C14N + "#WithComments": (False, True),
    C14N11: (False, False),
    C14N11 + "#WithComments": (False, True),
    EXC_C14N: (True, False),
    EXC_C14N + "WithComments": (True, True),
}
_WITHOUT_COMMENTS = {
    C14N + "#WithComments": C14N,
    C14N11 + "#WithComments": C14N11,
    EXC_C14N + "WithComments": EXC_C14N,
}
DIGESTS = {
    DS + "sha1": "sha1",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-256": "sha3_256",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-384": "sha3_384",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-512": "sha3_512",
}
SHA256_URI = "http://www.w3.org/2001/04/xmlenc#sha256"
_MORE = "http://www.w3.org/2001/04/xmldsig-more#"
_MORE07 = "http://www.w3.org/2007/05/xmldsig-more#"
# uri -> (family, hash name)
SIGNATURE_METHODS = {
    DS + "rsa-sha1": ("rsa", "sha1"),
    _MORE + "rsa-sha256": ("rsa", "sha256"),
    _MORE + "rsa-sha384": ("rsa", "sha384"),
    _MORE + "rsa-sha512": ("rsa", "sha512"),
    _MORE07 + "sha1-rsa-MGF1": ("pss", "sha1"),
    _MORE07 + "sha256-rsa-MGF1": ("pss", "sha256"),
    _MORE07 + "sha384-rsa-MGF1": ("pss", "sha384"),
    _MORE07 + "sha512-rsa-MGF1": ("pss", "sha512"),
    _MORE07 + "sha3-256-rsa-MGF1": ("pss", "sha3_256"),
    _MORE07 + "sha3-384-rsa-MGF1": ("pss", "sha3_384"),
    _MORE07 + "sha3-512-rsa-MGF1": ("pss", "sha3_512"),
    _MORE + "ecdsa-sha1": ("ecdsa", "sha1"),
    _MORE + "ecdsa-sha256": ("ecdsa", "sha256"),
    _MORE + "ecdsa-sha384": ("ecdsa", "sha384"),
    _MORE + "ecdsa-sha512": ("ecdsa", "sha512"),
    _MORE07 + "ecdsa-sha3-256": ("ecdsa", "sha3_256"),
    _MORE07 + "ecdsa-sha3-384": ("ecdsa", "sha3_384"),
    _MORE07 + "ecdsa-sha3-512": ("ecdsa", "sha3_512"),
}
RSA_SHA256 = _MORE + "rsa-sha256"
RSA_PSS_SHA256 = _MORE07 + "sha256-rsa-MGF1"
ECDSA_SHA256 = _MORE + "ecdsa-sha256"
_HASHES = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha3_256": hashes.SHA3_256,
    "sha3_384": hashes.SHA3_384,
    "sha3_512": hashes.SHA3_512,
}
MAX_XADES_BYTES = 1000 * 1000
NSMAP = {"ds": DS, "xades": XADES}
_XPATH_ENVELOPED = re.compile(r"^not\(ancestor-or-self::(\w+):Signature\)$")
#: XPath Filter 2.0 expressions naming the signature itself (the only ones evaluated)
_FILTER2_SIGNATURE = re.compile(
    r"^(?:here\(\)/ancestor(?:-or-self)?::(\w+):Signature(?:\[1\])?|(?:/descendant::|//)(\w+):Signature)$"
)
_FILTER2_WHOLE = {"/", "/*", "/descendant-or-self::node()"}
#: at most this many references in a signature, and transforms in a reference (each costs a copy of the document)
MAX_REFERENCES = 8
MAX_TRANSFORMS = 8


class XadesError(KsefError):
    """A signed document was refused; ``ksef_code`` is the KSeF exception code."""

    default_code = "xades_invalid"

    def __init__(self, message_en, message_pl=None, code=None, details=None, ksef_code=9105):
        super().__init__(message_en, message_pl, code=code, details=details)
        self.ksef_code = ksef_code


def invalid_signature(reason_en, reason_pl, reason_code):
    return XadesError(
        "The XAdES signature is invalid: %s." % reason_en,
        "Podpis XAdES jest nieprawidłowy: %s." % reason_pl,
        code="xades_invalid_signature",
        details={"reason": reason_code},
        ksef_code=9105,
    )


# --------------------------------------------------------------------------- canonicalisation


def c14n(node, method_uri, prefixes=None):
    """Canonical octets of ``node`` (an element, or an ElementTree for a whole document)."""
    exclusive, comments = C14N_METHODS[method_uri]
    if not exclusive and isinstance(node, etree._Element) and node.getparent() is not None:
        node = _standalone_for_inclusive_c14n(node)
    return etree.tostring(
        node,
        method="c14n",
        exclusive=exclusive,
        with_comments=comments,
        inclusive_ns_prefixes=(prefixes or None) if exclusive else None,
    )


_XML_NS = "http://www.w3.org/XML/1998/namespace"


def _standalone_for_inclusive_c14n(el):
    """A detached copy of ``el`` carrying every in-scope namespace and inherited xml:* attribute.

    libxml2 (2.10, lxml 4.9) emits spurious ``xmlns=""`` when canonicalising (inclusive
    C14N) a subtree whose default namespace differs from an ancestor's; canonicalising
    a standalone copy gives the output C14N 1.0 prescribes for the subtree.
    """
    attrib = dict(el.attrib)
    for anc in el.iterancestors():
        for key, value in anc.attrib.items():
            if key.startswith("{%s}" % _XML_NS) and key not in attrib:
                attrib[key] = value
    nsmap = {k: v for k, v in el.nsmap.items() if v}
    apex = etree.Element(el.tag, attrib=attrib, nsmap=nsmap)
    apex.text = el.text
    for child in el:
        apex.append(copy.deepcopy(child))
    return apex


def remove_keep_tail(el):
    """Remove ``el`` from its parent, keeping the text that follows it (lxml's tail)."""
    parent = el.getparent()
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def find_by_id(root, ident):
    found = [el for el in root.iter(etree.Element) if ident in (el.get("Id"), el.get("ID"), el.get("id"))]
    return found


def digest(algo_name, data):
    return hashlib.new(algo_name, data).digest()


def _inclusive_prefixes(transform):
    incl = [
        c for c in transform if isinstance(c.tag, str) and etree.QName(c).localname == "InclusiveNamespaces"
    ]
    if not incl:
        return None
    return [p for p in (incl[0].get("PrefixList") or "").split() if p != "#default"] or None


def reference_octets(reference, root, signature):
    """Apply a Reference's dereference + transforms; return the octets to digest."""
    uri = reference.get("URI")
    if uri is None or (uri and not uri.startswith("#")):
        raise invalid_signature(
            "it refers to data outside the document (detached signatures are not accepted)",
            "odwołuje się do danych spoza dokumentu (podpis zewnętrzny/detached nie jest akceptowany)",
            "detached",
        )
    if uri.startswith("#xpointer("):
        raise invalid_signature(
            "XPointer references are not supported", "odwołania XPointer nie są obsługiwane", "xpointer"
        )
    whole = uri == ""
    if whole:
        target = root
    else:
        found = find_by_id(root, uri[1:])
        if len(found) != 1:
            raise invalid_signature(
                "the referenced element %s is missing or not unique" % uri,
                "element wskazany przez %s nie istnieje lub nie jest jednoznaczny" % uri,
                "reference_target",
            )
        target = found[0]
    # Work on a copy of the whole document (so the context of the target is kept and
    # transforms never touch the caller's tree).
    doc = copy.deepcopy(root.getroottree())
    croot = doc.getroot()
    ctarget = croot if whole else same_node_in(croot, root, target)
    sig_copy = None
    if target is root or any(a is target for a in signature.iterancestors()):
        sig_copy = same_node_in(croot, root, signature)
    node = doc if whole else ctarget
    method = None
    prefixes = None
    transforms = reference.findall("ds:Transforms/ds:Transform", NSMAP)
    if len(transforms) > MAX_TRANSFORMS:
        raise invalid_signature(
            "a reference has more than %d transforms" % MAX_TRANSFORMS,
            "odwołanie ma więcej niż %d transformat" % MAX_TRANSFORMS,
            "structure",
        )
    for position, transform in enumerate(transforms):
        alg = transform.get("Algorithm")
        if alg == ENVELOPED or (alg == XPATH_TRANSFORM and _is_enveloped_xpath(transform)):
            if sig_copy is not None:
                remove_keep_tail(sig_copy)
                sig_copy = None
        elif alg == FILTER2:
            sig_copy = _apply_filter2(transform, sig_copy)
        elif alg == BASE64 and position == len(transforms) - 1:
            # the text of the node-set decoded (an enveloping signature over a document carried in base64)
            text = "".join((doc.getroot() if whole else node).itertext())
            try:
                return b64decode(re.sub(r"\s+", "", text)), target
            except ValueError:
                raise invalid_signature(
                    "the base64 content of %r cannot be decoded" % uri,
                    "treści base64 elementu %r nie można odkodować" % uri,
                    "base64_content",
                ) from None
        elif alg in C14N_METHODS:
            method, prefixes = alg, _inclusive_prefixes(transform)
        else:
            raise _unsupported(alg)
    # URI="" and "#id" dereference to node-sets without comments (XML-DSig 4.4.3.3),
    # so a WithComments canonicalisation has no comments to keep.
    method = _WITHOUT_COMMENTS.get(method, method) if method else C14N
    return c14n(node, method, prefixes), target


def _apply_filter2(transform, sig_copy):
    """XPath Filter 2.0 (``xmldsig-filter2``) as signing tools use it: ``subtract`` of the signature itself
    (``here()/ancestor::ds:Signature[1]``, ``/descendant::ds:Signature``, ``//ds:Signature``: one signature only
    is allowed), ``intersect``/``union`` of the whole document. No other expression is evaluated (an expression
    from an unauthenticated document could take unbounded time, or remove signed content): it is refused as
    unsupported. Returns the signature's copy (``sig_copy``: None once it is out of the node-set) while it is
    still in it."""
    steps = [child for child in transform if isinstance(child.tag, str) and child.tag == "{%s}XPath" % FILTER2]
    if not steps:
        raise _unsupported(FILTER2)
    for step in steps:
        expression = re.sub(r"\s+", "", step.text or "")
        kind = step.get("Filter")
        if kind in ("intersect", "union") and expression in _FILTER2_WHOLE:
            continue
        names_signature = _FILTER2_SIGNATURE.match(expression)
        prefix = names_signature and (names_signature.group(1) or names_signature.group(2))
        if kind != "subtract" or not prefix or step.nsmap.get(prefix) != DS:
            raise _unsupported(FILTER2)
        if sig_copy is not None:
            remove_keep_tail(sig_copy)
            sig_copy = None
    return sig_copy


def _unsupported(alg):
    return invalid_signature(
        "transform %s is not supported" % alg,
        "transformata %s nie jest obsługiwana" % alg,
        "transform_unsupported",
    )


def _is_enveloped_xpath(transform):
    xp = transform.find("ds:XPath", NSMAP)
    if xp is None or not xp.text:
        return False
    m = _XPATH_ENVELOPED.match(re.sub(r"\s+", "", xp.text))
    return bool(m) and xp.nsmap.get(m.group(1)) == DS


def same_node_in(copy_root, orig_root, orig_node):
    """The node of a deep copy corresponding to ``orig_node`` (or None if outside)."""
    path = []
    node = orig_node
    while node is not None and node is not orig_root:
        parent = node.getparent()
        if parent is None:
            return None
        path.append(parent.index(node))
        node = parent
    if node is None:
        return None
    cur = copy_root
    for idx in reversed(path):
        cur = cur[idx]
    return cur


# --------------------------------------------------------------------------- raw signatures


def _ec_raw_from_der(der, key_size_bits):
    r, s = utils.decode_dss_signature(der)
    n = (key_size_bits + 7) // 8
    return r.to_bytes(n, "big") + s.to_bytes(n, "big")


def _ec_der_from_raw(raw, key_size_bits):
    n = (key_size_bits + 7) // 8
    if len(raw) != 2 * n:
        return raw  # maybe already DER; cryptography will reject it otherwise
    return utils.encode_dss_signature(int.from_bytes(raw[:n], "big"), int.from_bytes(raw[n:], "big"))


def sign_bytes(private_key, data, method_uri):
    """Sign ``data`` with the XML-DSig ``method_uri``; ECDSA values come out as raw ``R||S``."""
    family, hname = SIGNATURE_METHODS[method_uri]
    algo = _HASHES[hname]()
    if family == "rsa":
        return private_key.sign(data, padding.PKCS1v15(), algo)
    if family == "pss":
        pss = padding.PSS(mgf=padding.MGF1(_HASHES[hname]()), salt_length=algo.digest_size)
        return private_key.sign(data, pss, algo)
    der = private_key.sign(data, ec.ECDSA(algo))
    return _ec_raw_from_der(der, private_key.curve.key_size)


def verify_bytes(public_key, signature, data, method_uri):
    """True when ``signature`` over ``data`` is valid for ``method_uri``."""
    family, hname = SIGNATURE_METHODS[method_uri]
    algo = _HASHES[hname]()
    try:
        if family in ("rsa", "pss"):
            if not isinstance(public_key, rsa.RSAPublicKey):
                return False
            if family == "rsa":
                pad = padding.PKCS1v15()
            else:
                pad = padding.PSS(mgf=padding.MGF1(_HASHES[hname]()), salt_length=algo.digest_size)
            public_key.verify(signature, data, pad, algo)
        else:
            if not isinstance(public_key, ec.EllipticCurvePublicKey):
                return False
            der = _ec_der_from_raw(signature, public_key.curve.key_size)
            public_key.verify(der, data, ec.ECDSA(algo))
    except (InvalidSignature, ValueError):
        return False
    return True
