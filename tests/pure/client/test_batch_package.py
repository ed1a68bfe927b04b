"""Batch package: ZIP on disk, binary split, per-part encryption, hashes."""

import base64
import hashlib
import io
import os
import zipfile

import pytest

from ksef_core.client.batch import BatchPackage
from ksef_core.crypto import aes_decrypt, encrypted_size, new_symmetric_key
from ksef_core.errors import InputError
from ksef_core.hashing import sha256_b64


def _b64sha(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_parts_decrypt_and_join_to_the_declared_zip(tmp_path):
    key, iv = new_symmetric_key()
    invoices = [("id-%d" % i, os.urandom(3000) + b"<Faktura/>") for i in range(30)]  # incompressible
    with BatchPackage(part_size=20_000, tmp_dir=str(tmp_path)) as package:
        for own_id, xml in invoices:
            package.add(own_id, xml)
        package.finish(key, iv)
        assert len(package.parts) >= 4
        joined = b""
        for part in package.parts:
            with open(part.path, "rb") as fh:
                data = fh.read()
            assert len(data) == part.encrypted_size == encrypted_size(part.plain_size)
            assert part.plain_size <= 20_000
            assert _b64sha(data) == part.encrypted_hash
            joined += aes_decrypt(key, iv, data)
        assert len(joined) == package.zip_size and _b64sha(joined) == package.zip_hash
        with zipfile.ZipFile(io.BytesIO(joined)) as archive:
            contents = sorted(archive.read(n) for n in archive.namelist())
        assert contents == sorted(xml for _id, xml in invoices)
        assert {package.hashes[sha256_b64(xml)][0] for _id, xml in invoices} == {i for i, _x in invoices}
        body = package.request_body()
        assert [p["ordinalNumber"] for p in body["fileParts"]] == list(range(1, len(package.parts) + 1))
    assert not os.path.exists(package.dir)  # temporary files removed


def test_empty_and_oversized_batches_are_refused(tmp_path):
    key, iv = new_symmetric_key()
    with BatchPackage(tmp_dir=str(tmp_path)) as package, pytest.raises(InputError) as err:
        package.finish(key, iv)
    assert err.value.code == "batch_empty"
    with BatchPackage(part_size=100, tmp_dir=str(tmp_path), compression=zipfile.ZIP_STORED) as package:
        package.add("a", b"x" * 6000)
        with pytest.raises(InputError) as err:
            package.finish(key, iv)
    assert err.value.code == "batch_too_large" and "50" in err.value.message_pl
    with pytest.raises(InputError):
        BatchPackage(part_size=100_000_001)
