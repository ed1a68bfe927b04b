"""Batch sessions over real HTTP: ZIP and tar.gz packages, per-file results, package errors."""

import pytest
from siminv_helpers import (
    Batch,
    issue_day,
    make_archive,
    official_samples,
    sample_bytes,
    set_clock,
    with_number,
)

from ksef_core.ksef_number import is_valid_ksef_number


def _files(count, start=0):
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    return [("inv%03d.xml" % n, with_number(xml, "B/%d" % n)) for n in range(start, start + count)]


@pytest.mark.parametrize("kind", ["Zip", "TarGz"])
def test_batch_with_all_samples_and_a_broken_file(simulator, seller, kind):
    names = official_samples()
    files = [(n, sample_bytes(n)) for n in names]
    files.append(("broken.xml", b"\xef\xbb\xbf" + sample_bytes("FA_3_Przyklad_10.xml")))
    set_clock(simulator.sim, max(issue_day(d) for _, d in files))
    batch = Batch(seller, make_archive(files, kind), kind=kind, parts=3)
    final = batch.run()
    assert final["status"]["code"] == 200, final
    results = {i["invoiceFileName"]: i for i in batch.invoices()}
    assert set(results) == set(names) | {"broken.xml"}
    assert results["broken.xml"]["status"]["code"] == 450
    # samples 1, 9 and 22 share seller + RodzajFaktury VAT + P_2: the later ones are duplicates
    accepted = [n for n, i in results.items() if i["status"]["code"] == 200]
    duplicates = [n for n, i in results.items() if i["status"]["code"] == 440]
    assert len(accepted) + len(duplicates) == len(names)
    assert all(is_valid_ksef_number(results[n]["ksefNumber"]) for n in accepted)
    failed = {i["invoiceFileName"] for i in batch.invoices(failed=True)}
    assert failed == set(duplicates) | {"broken.xml"}
    assert final["successfulInvoiceCount"] == len(accepted)
    assert len(final["upo"]["pages"]) == 1


def test_batch_invoices_dated_before_opening_are_offline(simulator, seller):
    files = _files(2)
    day = issue_day(files[0][1])
    set_clock(simulator.sim, day.replace(day=day.day + 1))
    batch = Batch(seller, make_archive(files))
    assert batch.run()["status"]["code"] == 200
    assert {i["invoicingMode"] for i in batch.invoices()} == {"Offline"}


def test_part_upload_checks_size_and_hash(simulator, seller):
    set_clock(simulator.sim, issue_day(_files(1)[0][1]))
    batch = Batch(seller, make_archive(_files(3)), parts=2)
    batch.open()
    wrong_size = batch.encrypted[0] + bytes(16)
    wrong_hash = bytes(len(batch.encrypted[1]))
    assert batch.upload({1: wrong_size, 2: wrong_hash}) == [400, 400]
    resp = batch.close()
    assert resp.status_code == 400
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21205
    assert batch.upload() == [201, 201]
    assert batch.close().status_code == 204
    assert seller.wait_session(batch.ref)["status"]["code"] == 200


def test_package_hash_mismatch_and_corrupt_archive(simulator, seller):
    set_clock(simulator.sim, issue_day(_files(1)[0][1]))
    archive = make_archive(_files(2))
    batch = Batch(seller, archive)
    batch.body["batchFile"]["fileHash"] = Batch(seller, b"x").body["batchFile"]["fileHash"]
    assert batch.run()["status"]["code"] == 405
    corrupt = Batch(seller, b"PK\x03\x04 this is not a zip archive")
    assert corrupt.run()["status"]["code"] == 430
    wrong_type = Batch(seller, archive, kind="TarGz")  # a ZIP declared as tar.gz
    assert wrong_type.run()["status"]["code"] == 430


def test_batch_invoice_limit_gives_420(simulator, seller):
    simulator.sim.invoice_store.configure(session_invoice_limit=3)
    set_clock(simulator.sim, issue_day(_files(1)[0][1]))
    assert Batch(seller, make_archive(_files(4))).run()["status"]["code"] == 420


def test_batch_declaration_limits(simulator, seller):
    batch = Batch(seller, make_archive(_files(1)))
    batch.body["batchFile"]["fileParts"] = [
        {"ordinalNumber": n, "fileSize": 16, "fileHash": batch.body["batchFile"]["fileHash"]} for n in range(1, 52)
    ]
    resp = seller.post("/sessions/batch", batch.body)
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21161
    batch.body["batchFile"]["fileParts"] = [
        {"ordinalNumber": 1, "fileSize": 100_000_032, "fileHash": batch.body["batchFile"]["fileHash"]}
    ]
    resp = seller.post("/sessions/batch", batch.body)
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21157


def test_batch_not_closed_in_time_is_cancelled_with_21208(simulator, seller):
    set_clock(simulator.sim, issue_day(_files(1)[0][1]))
    batch = Batch(seller, make_archive(_files(1)))
    batch.open()
    assert batch.upload() == [201]
    simulator.sim.clock.advance(21 * 60)  # one part: 20 minutes
    resp = batch.close()
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21208
    status = seller.session_status(batch.ref)["status"]
    assert status["code"] == 440 and status["details"] == ["Przekroczono czas wysyłki"]


def _raw_cbc(key, iv, data):
    """AES-CBC without PKCS#7 padding: the last block decrypts to zeros, an invalid padding."""
    from cryptography.hazmat.backends import default_backend
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    enc = Cipher(algorithms.AES(key), modes.CBC(iv), backend=default_backend()).encryptor()
    data += bytes(16 - len(data) % 16) + bytes(16)
    return enc.update(data) + enc.finalize()


def test_undecryptable_part_gives_435_and_unwrappable_key_gives_415(simulator, seller):
    from siminv_helpers import b64, sha

    set_clock(simulator.sim, issue_day(_files(1)[0][1]))
    batch = Batch(seller, make_archive(_files(2)))
    bad = _raw_cbc(batch.key, batch.iv, batch.archive)
    batch.encrypted = [bad]
    batch.body["batchFile"]["fileParts"] = [{"ordinalNumber": 1, "fileSize": len(bad), "fileHash": sha(bad)}]
    assert batch.run()["status"]["code"] == 435
    nokey = Batch(seller, make_archive(_files(2)))
    nokey.body["encryption"]["encryptedSymmetricKey"] = b64(b"\x02" * 256)
    assert nokey.run()["status"]["code"] == 415


def test_batch_with_only_invalid_invoices_gives_445(simulator, seller):
    set_clock(simulator.sim, issue_day(_files(1)[0][1]))
    files = [(name, b"\xef\xbb\xbf" + data) for name, data in _files(2)]
    batch = Batch(seller, make_archive(files))
    final = batch.run()
    assert final["status"]["code"] == 445
    assert {i["status"]["code"] for i in batch.invoices(failed=True)} == {450}
    assert "upo" not in final
