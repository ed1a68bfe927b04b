"""KOD I / KOD II links and QR images (ksef_core.qr, ksef_core.environments)."""

import datetime
import io
import re

import pytest
from PIL import Image

from ksef_core import certgen, qr
from ksef_core.environments import ENVIRONMENTS, get_environment
from ksef_core.errors import CredentialError, InputError

NIP = "5265877635"


def test_environment_hosts():
    assert get_environment("test").qr_url == "https://qr-test.ksef.mf.gov.pl"
    assert get_environment("DEMO").api_url == "https://api-demo.ksef.mf.gov.pl/v2"
    assert get_environment("PRD") is ENVIRONMENTS["PROD"]
    custom = get_environment("CUSTOM", custom_api_url="http://127.0.0.1:8123/v2/")
    assert custom.api_url == "http://127.0.0.1:8123/v2" and custom.qr_url == "http://127.0.0.1:8123"
    with pytest.raises(InputError):
        get_environment("STAGING")


def _vector_bytes(spec_dir, entry):
    if "file" in entry:
        return (spec_dir / entry["file"]).read_bytes()
    return entry["utf8_content"].encode("utf-8")


def test_kod1_vectors(spec_dir, vectors):
    entries = vectors["invoice_hash_and_kod1"]
    assert len(entries) >= 8
    for entry in entries:
        data = _vector_bytes(spec_dir, entry)
        issue = datetime.date.fromisoformat(entry["P_1"])
        assert qr.kod1_url("TEST", entry["seller_nip"], issue, data) == entry["kod1_url_test"]
        if "kod1_url_prd" in entry:
            assert (
                qr.kod1_url(get_environment("PROD"), entry["seller_nip"], issue, data)
                == entry["kod1_url_prd"]
            )
        # the same link from the API's Base64 hash
        assert (
            qr.kod1_url("TEST", entry["seller_nip"], issue, invoice_hash=entry["invoiceHash_base64"])
            == (entry["kod1_url_test"])
        )
    # byte-exactness: CRLF -> LF changes the link
    first = next(e for e in entries if "file" in e)
    lf = _vector_bytes(spec_dir, first).replace(b"\r\n", b"\n")
    assert qr.kod1_url("TEST", first["seller_nip"], first["P_1"], lf) != first["kod1_url_test"]


def test_kod1_doc_example_and_labels(vectors):
    ex = vectors["kod1_doc_example"]
    url = qr.kod1_url(
        "https://qr-test.ksef.mf.gov.pl/", ex["seller_nip"], ex["P_1"], invoice_hash=ex["hash_base64"]
    )
    assert url == ex["url"]
    assert qr.parse_kod1_url(url)["invoice_hash_b64url"] == ex["hash_base64url"]
    assert qr.kod1_label(ex["label_if_known"]) == "5265877635-20250729-01004014E040-00"
    assert qr.kod1_label(None) == "OFFLINE" and qr.kod1_label("") == "OFFLINE"
    assert qr.kod2_label() == "CERTYFIKAT"


def test_kod1_refuses_bad_input():
    with pytest.raises(InputError):
        qr.kod1_url("TEST", "12345", datetime.date(2026, 1, 1), b"<x/>")
    with pytest.raises(InputError):
        qr.kod1_url("TEST", NIP, "yesterday", b"<x/>")
    with pytest.raises(InputError):
        qr.kod1_url("TEST", NIP, datetime.date(2026, 1, 1), "<x/>")  # text, not bytes


def test_kod2_official_vector(spec_dir, vectors):
    k = vectors["kod2"]
    pem = (spec_dir / k["certificate_pem_file"]).read_bytes()
    assert qr.verify_kod2_url(k["full_url"], pem)
    parts = qr.parse_kod2_url(k["full_url"])
    assert parts["signed_string"] == k["signed_string"]
    assert parts["certificate_serial"] == "01F20A5D352AE590"
    # any change of the signed part invalidates it
    assert not qr.verify_kod2_url(k["full_url"].replace("/Nip/1111111111/", "/Nip/1111111112/"), pem)
    other = certgen.make_test_certificate(nip=NIP, usage="Offline", key_type="rsa")
    assert not qr.verify_kod2_url(k["full_url"], other.certificate)


@pytest.mark.parametrize("key_type", ["ec", "rsa"])
def test_kod2_sign_and_verify(key_type):
    cred = certgen.make_test_certificate(nip=NIP, usage="Offline", key_type=key_type, seal=True)
    url = qr.kod2_url("TEST", "Nip", NIP, NIP, cred, b"<x/>")
    serial = cred.info().serial_hex
    assert url.startswith(
        "https://qr-test.ksef.mf.gov.pl/certificate/Nip/%s/%s/%s/KjH0TaS9fey70939GjeuBNAuxmXiwmiIFszGVjFYbtE/"
        % (NIP, NIP, serial)
    )
    signature = url.rsplit("/", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", signature)
    assert len(qr.parse_kod2_url(url)["signature_b64url"]) == (86 if key_type == "ec" else 342)
    assert qr.verify_kod2_url(url, cred.certificate)
    assert qr.verify_kod2_url(url, cred.certificate_pem())
    tampered = url.replace("/Nip/%s/%s/" % (NIP, NIP), "/Nip/%s/%s/" % (NIP, "1111111111"))
    assert not qr.verify_kod2_url(tampered, cred.certificate)


def test_kod2_refuses_authentication_certificate():
    auth = certgen.make_test_certificate(nip=NIP, usage="Authentication")
    with pytest.raises(CredentialError) as exc:
        qr.kod2_url("TEST", "Nip", NIP, NIP, auth, b"<x/>")
    assert exc.value.code == "usage_mismatch"
    assert "KOD II" in exc.value.message_en and "KOD II" in exc.value.message_pl


def test_kod2_on_simulator_host():
    cred = certgen.make_test_certificate(nip=NIP, usage="Offline")
    env = get_environment("CUSTOM", custom_api_url="http://127.0.0.1:8099/v2")
    url = qr.kod2_url(env, "InternalId", NIP + "-00001", NIP, cred, invoice_hash=b"\x00" * 32)
    assert url.startswith("http://127.0.0.1:8099/certificate/InternalId/5265877635-00001/")
    assert qr.parse_kod2_url(url)["signed_string"].startswith("127.0.0.1:8099/certificate/")
    assert qr.verify_kod2_url(url, cred.certificate)


def _png_modules(png, url, box_size):
    img = Image.open(io.BytesIO(png)).convert("L")
    matrix = qr.qr_matrix(url)
    size = len(matrix) * box_size
    x0 = (img.width - size) // 2
    got = [
        [
            img.getpixel((x0 + x * box_size + box_size // 2, y * box_size + box_size // 2)) < 128
            for x in range(len(row))
        ]
        for y, row in enumerate(matrix)
    ]
    return got, matrix, img


def test_png_contains_exactly_the_qr_modules_and_label():
    url = "https://qr-test.ksef.mf.gov.pl/invoice/1111111111/01-02-2026/UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE"
    png = qr.qr_png(url, "5265877635-20250729-01004014E040-00")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    got, matrix, img = _png_modules(png, url, 5)
    assert got == matrix
    assert 150 <= img.width <= 600 and img.height > len(matrix) * 5  # room for the label
    # the label area is not blank
    label_area = img.crop((0, len(matrix) * 5, img.width, img.height))
    assert label_area.getextrema()[0] < 128
    no_label = Image.open(io.BytesIO(qr.qr_png(url, None)))
    assert no_label.height == len(matrix) * 5


def test_svg_is_deterministic_and_matches_modules():
    url = (
        "https://qr.ksef.mf.gov.pl/invoice/9999999999/15-02-2026/X-wQflQVyRs1fImlI-xDPnWk1V37hys4O1lkx9iJbSA"
    )
    a = qr.qr_svg(url, "OFFLINE")
    assert a == qr.qr_svg(url, "OFFLINE")
    assert a != qr.qr_svg(url, "CERTYFIKAT")
    assert b">OFFLINE</text>" in a
    from lxml import etree

    root = etree.fromstring(a)
    d = root.find("{http://www.w3.org/2000/svg}path").get("d")
    matrix = qr.qr_matrix(url)
    rebuilt = [[False] * len(matrix) for _ in matrix]
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", d):
        for i in range(int(w)):
            rebuilt[int(y)][int(x) + i] = True
    assert rebuilt == matrix
    assert b"<&" not in qr.qr_svg(url, "<&>")  # label is escaped
