"""KSeF verification QR codes: KOD I (invoice) and KOD II (issuer certificate), API-NOTES §8.

* KOD I: ``https://{qr-host}/invoice/{sellerNIP}/{DD-MM-YYYY}/{Base64URL(SHA-256(file))}``,
  label = KSeF number, or ``OFFLINE`` while the invoice has no number.
* KOD II (offline invoices only):
  ``https://{qr-host}/certificate/{ctxType}/{ctxValue}/{sellerNIP}/{certSerial}/{hash}/{signature}``
  where the signature (RSASSA-PSS SHA-256 salt 32, or ECDSA P-256 SHA-256 as raw ``r||s``,
  Base64URL) covers the URL without the scheme and without the final ``/signature``;
  label ``CERTYFIKAT``.  Must be signed with a KSeF *Offline* certificate.

Images: :func:`qr_png` (Pillow) and :func:`qr_svg` (deterministic text) with the label
under the code.  QR hosts come from :mod:`ksef_core.environments` only.
"""

import datetime
import functools
import io
import re
from xml.sax.saxutils import escape

import qrcode
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .credentials import Credential, CredentialError, check_for_offline_signing, load_certificate, serial_hex
from .environments import Environment, get_environment
from .errors import InputError
from .hashing import b64url, b64url_decode, sha256_b64url
from .xmldsig import sign_bytes, verify_bytes

LABEL_OFFLINE = "OFFLINE"
LABEL_CERTIFICATE = "CERTYFIKAT"
CONTEXT_TYPES = ("Nip", "InternalId", "NipVatUe", "PeppolId")
_PSS_SHA256 = "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"
_ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
_HASH_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_KOD1_RE = re.compile(
    r"^(https?)://([^/]+)((?:/[^/]+)*?)/invoice/(\d{10})/(\d{2}-\d{2}-\d{4})/([A-Za-z0-9_-]{43})$"
)
_KOD2_RE = re.compile(
    r"^(https?)://([^/]+)((?:/[^/]+)*?)/certificate/(Nip|InternalId|NipVatUe|PeppolId)/([^/]+)/(\d{10})/"
    r"([0-9A-Fa-f]+)/([A-Za-z0-9_-]{43})/([A-Za-z0-9_-]+)$"
)


def _input_error(en, pl, code):
    return InputError(en, pl, code=code)


def qr_base_url(env_or_qr_base):
    """QR host base (no trailing slash) from an Environment, an environment name or a URL."""
    if isinstance(env_or_qr_base, Environment):
        return env_or_qr_base.qr_url.rstrip("/")
    text = (env_or_qr_base or "").strip()
    if text.startswith(("http://", "https://")):
        return text.rstrip("/")
    return get_environment(text).qr_url.rstrip("/")


def _seller_nip(value):
    nip = re.sub(r"[\s-]", "", str(value or ""))
    if nip.upper().startswith("PL"):
        nip = nip[2:]
    if not re.fullmatch(r"\d{10}", nip):
        raise _input_error(
            "The seller NIP %r must have 10 digits (Podmiot1 NIP of the invoice)." % (value,),
            "NIP sprzedawcy %r musi mieć 10 cyfr (NIP z Podmiot1 faktury)." % (value,),
            "qr_nip_invalid",
        )
    return nip


def _issue_date(value):
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, str):
        text = value.strip()
        for fmt in ("%Y-%m-%d", "%d-%m-%Y"):
            try:
                value = datetime.datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
    if not isinstance(value, datetime.date):
        raise _input_error(
            "The invoice issue date (P_1) %r is not a date." % (value,),
            "Data wystawienia faktury (P_1) %r nie jest datą." % (value,),
            "qr_date_invalid",
        )
    return value.strftime("%d-%m-%Y")


def _hash_b64url(invoice_bytes=None, invoice_hash=None):
    if invoice_bytes is not None:
        if isinstance(invoice_bytes, str):
            raise _input_error(
                "Give the exact invoice file bytes, not text: the hash must cover the file as sent.",
                "Podaj dokładne bajty pliku faktury, nie tekst: skrót musi obejmować plik "
                "w postaci wysłanej.",
                "qr_invoice_not_bytes",
            )
        return sha256_b64url(bytes(invoice_bytes))
    if isinstance(invoice_hash, (bytes, bytearray)) and len(invoice_hash) == 32:
        return b64url(bytes(invoice_hash))
    text = str(invoice_hash or "").strip().rstrip("=").replace("+", "-").replace("/", "_")
    if not _HASH_RE.match(text):
        raise _input_error(
            "The invoice hash must be SHA-256 in Base64 or Base64URL (43/44 characters).",
            "Skrót faktury musi być SHA-256 w Base64 lub Base64URL (43/44 znaki).",
            "qr_hash_invalid",
        )
    return text


def kod1_url(env_or_qr_base, seller_nip, issue_date, invoice_bytes=None, *, invoice_hash=None):
    """KOD I link for the exact invoice file bytes (or a known SHA-256 ``invoice_hash``)."""
    return "%s/invoice/%s/%s/%s" % (
        qr_base_url(env_or_qr_base),
        _seller_nip(seller_nip),
        _issue_date(issue_date),
        _hash_b64url(invoice_bytes, invoice_hash),
    )


def kod1_label(ksef_number=None):
    """Text printed under KOD I: the KSeF number, or ``OFFLINE`` while there is none."""
    number = (ksef_number or "").strip()
    return number or LABEL_OFFLINE


def kod2_label():
    return LABEL_CERTIFICATE


def _signing_method(key):
    if isinstance(key, rsa.RSAPrivateKey):
        return _PSS_SHA256
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return _ECDSA_SHA256
    raise CredentialError(
        "KOD II can only be signed with an RSA or EC (P-256) key.",
        "KOD II można podpisać tylko kluczem RSA lub EC (P-256).",
        code="key_unsupported",
    )


def _context_value(context_type, context_value):
    if context_type not in CONTEXT_TYPES:
        raise _input_error(
            "Unknown context type %r; use Nip, InternalId, NipVatUe or PeppolId." % (context_type,),
            "Nieznany typ kontekstu %r; użyj Nip, InternalId, NipVatUe lub PeppolId." % (context_type,),
            "qr_context_type_invalid",
        )
    value = str(context_value or "").strip()
    if not value or "/" in value or not re.fullmatch(r"[A-Za-z0-9+*-]+", value):
        raise _input_error(
            "The context identifier %r is not valid for a KOD II link." % (value,),
            "Identyfikator kontekstu %r nie nadaje się do linku KOD II." % (value,),
            "qr_context_value_invalid",
        )
    return value


def kod2_url(
    env_or_qr_base,
    context_type,
    context_value,
    seller_nip,
    credential,
    invoice_bytes=None,
    *,
    invoice_hash=None,
    now=None,
):
    """Signed KOD II link; ``credential`` must be a KSeF Offline certificate with its key.

    :raises CredentialError: ``usage_mismatch`` for an Authentication certificate, or
        the other codes of :func:`~ksef_core.credentials.check_for_offline_signing`.
    """
    if not isinstance(credential, Credential):
        raise CredentialError(
            "KOD II needs the Offline certificate together with its private key.",
            "KOD II wymaga certyfikatu Offline wraz z kluczem prywatnym.",
            code="key_missing",
        )
    info = check_for_offline_signing(credential, now=now)
    base = qr_base_url(env_or_qr_base)
    unsigned = "%s/certificate/%s/%s/%s/%s/%s" % (
        base,
        context_type,
        _context_value(context_type, context_value),
        _seller_nip(seller_nip),
        info.serial_hex,
        _hash_b64url(invoice_bytes, invoice_hash),
    )
    signed_part = unsigned.split("://", 1)[1]
    signature = sign_bytes(
        credential.private_key, signed_part.encode("utf-8"), _signing_method(credential.private_key)
    )
    return "%s/%s" % (unsigned, b64url(signature))


def parse_kod1_url(url):
    """Split a KOD I link into its parts (dict) or return ``None`` if it is not one."""
    m = _KOD1_RE.match((url or "").strip())
    if not m:
        return None
    return {
        "base_url": "%s://%s%s" % (m.group(1), m.group(2), m.group(3)),
        "seller_nip": m.group(4),
        "issue_date": datetime.datetime.strptime(m.group(5), "%d-%m-%Y").date(),
        "invoice_hash_b64url": m.group(6),
    }


def parse_kod2_url(url):
    """Split a KOD II link into its parts (dict) or return ``None`` if it is not one."""
    m = _KOD2_RE.match((url or "").strip())
    if not m:
        return None
    unsigned = url.strip().rsplit("/", 1)[0]
    return {
        "base_url": "%s://%s%s" % (m.group(1), m.group(2), m.group(3)),
        "context_type": m.group(4),
        "context_value": m.group(5),
        "seller_nip": m.group(6),
        "certificate_serial": m.group(7).upper(),
        "invoice_hash_b64url": m.group(8),
        "signature_b64url": m.group(9),
        "signed_string": unsigned.split("://", 1)[1],
    }


def verify_kod2_url(url, certificate):
    """True when ``url`` is a KOD II link signed by ``certificate``'s key.

    ``certificate``: ``x509.Certificate``, :class:`Credential`, or PEM/DER bytes.  The
    serial in the link must be that certificate's.  Certificate status, validity and
    permissions are not checked here (KSeF checks them when the code is scanned).
    """
    parts = parse_kod2_url(url)
    if parts is None:
        return False
    if isinstance(certificate, Credential):
        certificate = certificate.certificate
    elif not isinstance(certificate, x509.Certificate):
        certificate = load_certificate(certificate)
    if serial_hex(certificate.serial_number) != parts["certificate_serial"].rjust(16, "0"):
        return False
    try:
        signature = b64url_decode(parts["signature_b64url"])
    except ValueError:
        return False
    data = parts["signed_string"].encode("utf-8")
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return verify_bytes(key, signature, data, _PSS_SHA256)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return verify_bytes(key, signature, data, _ECDSA_SHA256)
    return False


# --------------------------------------------------------------------------- images


@functools.lru_cache(maxsize=64)
def _matrix(url, border):
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=border)
    code.add_data(url.encode("utf-8"))
    code.make(fit=True)
    return tuple(tuple(bool(v) for v in row) for row in code.get_matrix())


def qr_matrix(url, border=4):
    """Module matrix (list of rows of bools, quiet zone included), error correction M.

    Cached per URL: KOD I/II images are often rendered twice (PNG for PDF, SVG for HTML).
    """
    return [list(row) for row in _matrix(url, border)]


def _font(size):
    from PIL import ImageFont

    for name in ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "Arial.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


def _text_size(draw, text, font):
    if hasattr(draw, "textbbox"):
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        return right - left, bottom - top, left, top
    width, height = draw.textsize(text, font=font)  # Pillow < 8
    return width, height, 0, 0


def qr_png(url, label=None, box_size=5, border=4):
    """PNG bytes of the QR code for ``url`` with ``label`` centred under it."""
    from PIL import Image, ImageDraw

    matrix = qr_matrix(url, border)
    modules = len(matrix)
    size = modules * box_size
    label = (label or "").strip()
    font_size = max(10, size // 16)
    font = _font(font_size)
    probe = ImageDraw.Draw(Image.new("L", (1, 1), 255))
    text_w, text_h, off_x, off_y = _text_size(probe, label, font) if label else (0, 0, 0, 0)
    width = max(size, text_w + 2 * box_size)
    height = size + (text_h + box_size * border if label else 0)
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    x0 = (width - size) // 2
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                left, top = x0 + x * box_size, y * box_size
                draw.rectangle([left, top, left + box_size - 1, top + box_size - 1], fill=0)
    if label:
        draw.text(((width - text_w) // 2 - off_x, size - off_y), label, fill=0, font=font)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def qr_svg(url, label=None, module_size=4, border=4):
    """Deterministic SVG (bytes) of the QR code for ``url`` with ``label`` under it."""
    matrix = qr_matrix(url, border)
    modules = len(matrix)
    size = modules * module_size
    label = (label or "").strip()
    font_size = max(10, size // 16)
    height = size + (font_size + module_size * border if label else 0)
    path = []
    for y, row in enumerate(matrix):
        x = 0
        while x < modules:
            if row[x]:
                start = x
                while x < modules and row[x]:
                    x += 1
                path.append("M%d %dh%dv1h-%dz" % (start, y, x - start, x - start))
            else:
                x += 1
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">'
        % (size, height, size, height),
        '<rect width="100%" height="100%" fill="#fff"/>',
        '<path transform="scale(%d)" fill="#000" shape-rendering="crispEdges" d="%s"/>'
        % (module_size, "".join(path)),
    ]
    if label:
        parts.append(
            '<text x="%d" y="%d" text-anchor="middle" font-family="DejaVu Sans, Arial, sans-serif" '
            'font-size="%d" fill="#000">%s</text>' % (size // 2, size + font_size, font_size, escape(label))
        )
    parts.append("</svg>\n")
    return "".join(parts).encode("utf-8")
