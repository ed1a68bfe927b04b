"""Official test vectors relevant to the client: KSeF numbers, token plaintext, invoice hash, AES sizes."""

import pytest

from ksef_core.client.auth import token_plaintext
from ksef_core.client.online import check_ksef_number, invoice_payload
from ksef_core.client.tokens import check_ksef_token
from ksef_core.crypto import aes_decrypt, new_symmetric_key
from ksef_core.errors import InputError
from ksef_core.hashing import b64decode

NIP = "5265877635"


def test_ksef_number_vectors_are_checked_before_requests(vectors, simulator, make_client):
    for vector in vectors["ksef_numbers"]:
        if vector["valid"]:
            assert check_ksef_number(vector["value"]) == vector["value"]
        else:
            with pytest.raises(InputError) as err:
                check_ksef_number(vector["value"])
            assert err.value.code == "ksef_number_invalid"
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    bad = next(v["value"] for v in vectors["ksef_numbers"] if not v["valid"])
    before = simulator.sim.request_count
    with pytest.raises(InputError):
        client.download_invoice(bad)
    assert simulator.sim.request_count == before


def test_token_plaintext_vector(vectors):
    example = vectors["ksef_token_auth_plaintext_example"]
    check_ksef_token(example["ksef_token"], NIP)  # the official token passes the shape check
    plain = token_plaintext(example["ksef_token"], example["challenge_timestampMs"])
    assert plain == example["plaintext_to_encrypt_utf8"].encode("utf-8")


def test_invoice_payload_matches_hash_and_size_vectors(vectors, spec_dir):
    key, iv = new_symmetric_key()
    for vector in vectors["invoice_hash_and_kod1"]:
        if "file" in vector:
            xml = (spec_dir / vector["file"]).read_bytes()
            assert len(xml) == vector["size_bytes"]
        else:
            xml = vector["utf8_content"].encode("utf-8")
        body = invoice_payload(key, iv, xml)
        assert body["invoiceHash"] == vector["invoiceHash_base64"]
        assert body["invoiceSize"] == len(xml)
        assert aes_decrypt(key, iv, b64decode(body["encryptedInvoiceContent"])) == xml
    sizes = vectors["aes_size_relation"]
    body = invoice_payload(key, iv, b"x" * sizes["invoiceSize"])
    assert body["encryptedInvoiceSize"] == sizes["encryptedInvoiceSize"]  # IV not prefixed
    with pytest.raises(InputError):
        invoice_payload(key, iv, "<Faktura/>")
