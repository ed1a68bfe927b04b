"""Batch session against the simulator: several encrypted parts, parallel upload, results by own id."""

from ksef_core.client.batch import BatchSessions
from ksef_core.ksef_number import is_valid_ksef_number

NIP = "5265877635"


def test_batch_in_several_parts_maps_results_to_own_ids(simulator, make_client, make_invoice, tmp_path, sleeps):
    client = make_client(simulator, simulator.sim.mint_token(NIP), sleep=sleeps, tmp_dir=str(tmp_path))
    client.batch = BatchSessions(client, part_size=6000, upload_workers=3, tmp_dir=str(tmp_path))
    earlier = client.send_invoices([("online-1", make_invoice(number="B/DUP"))])["online-1"]
    invoices = [("inv-%02d" % i, make_invoice()) for i in range(25)]
    invoices.append(("dup", make_invoice(number="B/DUP")))
    invoices.append(("bad", make_invoice().replace(b"<P_15>", b"<P_15>x", 1)))
    # one part upload fails once with 503 and is retried
    simulator.sim.faults.error("/batch/*", status=503, method="PUT")
    counter = client.transport.counter()
    batch = client.send_batch(iter(invoices))
    puts = sum(n for key, n in counter.by_key.items() if key.startswith("PUT "))
    assert puts == len(client.batch.last_parts) + 1 and len(client.batch.last_parts) >= 3  # + the retried one
    assert batch.status.ok
    assert set(batch.results) == {own_id for own_id, _xml in invoices}
    numbers = set()
    for own_id, result in batch.results.items():
        if own_id in ("dup", "bad"):
            continue
        assert result.ok and is_valid_ksef_number(result.ksef_number), own_id
        numbers.add(result.ksef_number)
    assert len(numbers) == 25
    assert batch.results["dup"].duplicate and batch.results["dup"].ksef_number == earlier.ksef_number
    assert not batch.results["bad"].ok and batch.results["bad"].final
    assert list(tmp_path.iterdir()) == []  # temporary parts removed


def test_batch_upload_without_bearer(simulator, make_client, make_invoice, tmp_path):
    """Pre-signed URLs are called without the access token (the simulator's storage refuses nothing, so we
    check the request the client prepared)."""
    client = make_client(simulator, simulator.sim.mint_token(NIP), tmp_dir=str(tmp_path))
    seen = []
    client.transport.session.hooks["response"].append(
        lambda r, *a, **k: seen.append((r.request.method, "Authorization" in r.request.headers))
    )
    batch = client.send_batch([("a", make_invoice())])
    assert batch.results["a"].ok
    puts = [auth for method, auth in seen if method == "PUT"]
    assert puts == [False]
