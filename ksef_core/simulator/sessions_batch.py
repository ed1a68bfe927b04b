"""Batch sessions (API-NOTES section 4): open, pre-signed part uploads, close + processing.

``POST /sessions/batch/{ref}/close`` answers 204 at once and processes the
package in a background thread (session status 150 meanwhile): decrypt every
part, concatenate, verify the whole archive's size and hash, unpack (ZIP or
tar.gz), then run the online checks on every file.  The CPU-heavy part (XML
parsing and XSD validation) runs outside ``state.lock``; results are committed
in chunks under the lock, so other requests are served during processing.
"""

import threading

from ..crypto import AES_BLOCK_BYTES, aes_decrypt, encrypted_size
from ..hashing import sha256_b64
from .errors import ApiError, bad_request, validation_error
from .inv_archive import TARGZ, ZIP, ArchiveError, read_archive
from .inv_common import (
    STORAGE_PREFIX,
    bool_field,
    check_signature,
    form_code,
    hash_field,
    session_key,
    signed_url,
)
from .invoice_checks import MAX_WITH_ATTACHMENT_BYTES, check_invoice
from .routing import empty, hook, json_response, route
from .storage_invoices import session_status, store_of, warsaw_date

MAX_PARTS = 50
MAX_PART_BYTES = 100 * 1000 * 1000
MAX_PACKAGE_BYTES = 5 * 1000 * 1000 * 1000
PART_UPLOAD_SECONDS = 20 * 60
COMMIT_CHUNK = 250
_PART_BLOB = "batch_part"


def _parts(batch_file):
    parts = batch_file.get("fileParts")
    if not isinstance(parts, list) or not parts:
        raise validation_error("Pole 'batchFile.fileParts' musi zawierać co najmniej jedną część.")
    if len(parts) > MAX_PARTS:
        raise bad_request(
            21161,
            "Przekroczono dozwoloną liczbę części pakietu.",
            ["Zadeklarowano %d części; dozwolone jest najwyżej %d." % (len(parts), MAX_PARTS)],
        )
    declared = {}
    limit = encrypted_size(MAX_PART_BYTES)
    for part in parts:
        if not isinstance(part, dict):
            raise validation_error("Każda część pakietu musi być obiektem JSON.")
        number = part.get("ordinalNumber")
        size = part.get("fileSize")
        if not isinstance(number, int) or number < 1 or number in declared:
            raise validation_error("Numery porządkowe części (ordinalNumber) muszą być unikalne i ≥ 1.")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise validation_error("Rozmiar części %d (fileSize) musi być dodatnią liczbą całkowitą." % number)
        if size > limit or size % AES_BLOCK_BYTES:
            raise bad_request(
                21157,
                "Nieprawidłowy rozmiar części pakietu.",
                [
                    "Część %d ma rozmiar %d B; zaszyfrowana część może mieć najwyżej %d B (100 MB przed "
                    "szyfrowaniem) i musi być wielokrotnością 16 B." % (number, size, limit)
                ],
            )
        declared[number] = {"fileSize": size, "fileHash": hash_field(part, "fileHash")}
    if sorted(declared) != list(range(1, len(declared) + 1)):
        raise validation_error("Numery porządkowe części muszą tworzyć ciąg 1..%d." % len(declared))
    return declared


def open_batch(sim, principal, body):
    """Create a batch session from an ``OpenBatchSessionRequest``; returns the session dict."""
    store = store_of(sim)
    code = form_code(body)
    batch_file = body.get("batchFile")
    if not isinstance(batch_file, dict):
        raise validation_error("Pole 'batchFile' jest wymagane.")
    size = batch_file.get("fileSize")
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_PACKAGE_BYTES:
        raise validation_error("Pole 'batchFile.fileSize' musi mieścić się w zakresie 1–%d." % MAX_PACKAGE_BYTES)
    file_hash = hash_field(batch_file, "fileHash")
    compression = batch_file.get("compressionType") or ZIP
    if compression not in (ZIP, TARGZ):
        raise validation_error("Pole 'compressionType' przyjmuje wartości Zip lub TarGz.")
    parts = _parts(batch_file)
    offline = bool_field(body, "offlineMode")
    key, iv = session_key(sim, body)
    now = sim.clock.now()
    session = store.new_session(
        "Batch",
        principal,
        code,
        key,
        iv,
        batch={
            "fileSize": size,
            "fileHash": file_hash,
            "compressionType": compression,
            "parts": {str(n): p for n, p in parts.items()},
            "uploaded": {},
            "uploadDeadline": now.timestamp() + PART_UPLOAD_SECONDS * len(parts),
        },
        offlineMode=offline,
    )
    return session


@route(
    "POST",
    "/sessions/batch",
    permissions=("InvoiceWrite", "EnforcementOperations"),
    rate_group="sessions_batch",
)
def post_open_batch(sim, ctx):
    store = store_of(sim)
    body = ctx.json if isinstance(ctx.json, dict) else {}
    session = open_batch(sim, ctx.principal, body)
    ref = session["referenceNumber"]
    ttl = PART_UPLOAD_SECONDS * len(session["batch"]["parts"])
    requests_ = []
    for number in sorted(int(n) for n in session["batch"]["parts"]):
        url, _expires = signed_url(store, ctx, "/batch/%s/%d" % (ref, number), ttl=ttl)
        requests_.append(
            {"ordinalNumber": number, "method": "PUT", "url": url, "headers": {"x-ms-blob-type": "BlockBlob"}}
        )
    return json_response({"referenceNumber": ref, "partUploadRequests": requests_}, status=201)


@route("PUT", "/batch/{sessionRef}/{ordinal}", auth="none", rate_group=None, prefix=STORAGE_PREFIX)
def put_part(sim, ctx):
    store = store_of(sim)
    check_signature(store, ctx)
    session = store.get_session(ctx.param("sessionRef"))
    batch = session.get("batch")
    part = batch and batch["parts"].get(ctx.param("ordinal"))
    if part is None:
        raise ApiError(404, None, "Nie zadeklarowano takiej części pakietu.")
    if session["status"]["code"] != 100:
        raise ApiError(403, None, "Sesja wsadowa nie przyjmuje już części (status %s)." % session["status"]["code"])
    data = ctx.body
    if len(data) != part["fileSize"]:
        raise bad_request(
            21157,
            "Nieprawidłowy rozmiar części pakietu.",
            [
                "Zadeklarowany rozmiar części '%s' (%d B) nie zgadza się z rzeczywistym (%d B)."
                % (ctx.param("ordinal"), part["fileSize"], len(data))
            ],
        )
    if sha256_b64(data) != part["fileHash"]:
        raise bad_request(
            21403,
            "Nieprawidłowy skrót pliku.",
            ["Skrót SHA-256 części '%s' nie zgadza się z zadeklarowanym fileHash." % ctx.param("ordinal")],
        )
    sim.state.put_blob(_PART_BLOB, "%s-%s" % (session["referenceNumber"], ctx.param("ordinal")), data)
    batch["uploaded"][ctx.param("ordinal")] = True
    store.touch(session)
    return empty(201)


@route(
    "POST",
    "/sessions/batch/{referenceNumber}/close",
    permissions=("InvoiceWrite", "EnforcementOperations"),
    rate_group="sessions_batch",
)
def post_close_batch(sim, ctx):
    store = store_of(sim)
    ref = ctx.param("referenceNumber")
    session = store.get_session(ref, ctx.principal)
    if session["type"] != "Batch":
        raise bad_request(
            21173,
            "Brak sesji o wskazanym numerze referencyjnym.",
            ["Sesja wsadowa o numerze referencyjnym %s nie została znaleziona." % ref],
        )
    code = session["status"]["code"]
    if code == 440 and "Przekroczono czas wysyłki" in session["status"].get("details", ()):
        raise bad_request(
            21208,
            "Czas oczekiwania na requesty upload lub finish został przekroczony.",
            ["Sesja anulowana, przekroczony czas wysyłki."],
        )
    if code != 100:
        raise bad_request(
            21180,
            "Status sesji nie pozwala na wykonanie operacji.",
            ["Status sesji %s uniemożliwia jej zamknięcie." % code],
        )
    batch = session["batch"]
    for number in sorted(batch["parts"], key=int):
        if not batch["uploaded"].get(number):
            raise bad_request(
                21205,
                "Pakiet nie może być pusty.",
                ["Nie przesłano zadeklarowanej '%s' części pliku." % number],
            )
    session["status"] = session_status(150)
    store.touch(session)
    if store.settings.get("batch_synchronous"):
        process_batch(sim, ref)
    else:
        threading.Thread(target=process_batch, args=(sim, ref), name="ksef-sim-batch", daemon=True).start()
    return empty(204)


def _fail(sim, session, code, details=None):
    with sim.state.lock:
        session["status"] = session_status(code, details)
        session["key"] = None
        store_of(sim).touch(session)


def _assemble(sim, session):
    """Decrypted, concatenated package bytes, or ``(None, status_code, details)`` on failure."""
    batch = session["batch"]
    chunks = []
    for number in sorted(batch["parts"], key=int):
        blob_key = "%s-%s" % (session["referenceNumber"], number)
        data = sim.state.get_blob(_PART_BLOB, blob_key)
        try:
            chunks.append(aes_decrypt(session["key"], session["iv"], data))
        except Exception:
            return None, 435, ["Nie udało się odszyfrować części %s pakietu." % number]
    package = b"".join(chunks)
    if len(package) != batch["fileSize"]:
        return (
            None,
            405,
            ["Rozmiar pakietu %d B nie zgadza się z zadeklarowanym %d B." % (len(package), batch["fileSize"])],
        )
    if sha256_b64(package) != batch["fileHash"]:
        return None, 405, ["Skrót SHA-256 pakietu nie zgadza się z zadeklarowanym fileHash."]
    return package, None, None


def process_batch(sim, ref):
    """Process a closed batch session (runs in a worker thread)."""
    store = store_of(sim)
    with sim.state.lock:
        session = store.sessions[ref]
    try:
        _process(sim, store, session)
    except Exception:
        _fail(sim, session, 500, ["Nieoczekiwany błąd przetwarzania paczki."])
    finally:
        for number in session["batch"]["parts"]:
            sim.state.delete_blob(_PART_BLOB, "%s-%s" % (ref, number))


def _process(sim, store, session):
    if session["key"] is None:
        _fail(sim, session, 415)
        return
    package, code, details = _assemble(sim, session)
    if package is None:
        _fail(sim, session, code, details)
        return
    try:
        members = read_archive(package, session["batch"]["compressionType"], MAX_WITH_ATTACHMENT_BYTES)
    except ArchiveError:
        _fail(sim, session, 430, ["Nie udało się rozpakować archiwum %s." % session["batch"]["compressionType"]])
        return
    limit = int(store.settings["session_invoice_limit"])
    if len(members) > limit:
        _fail(sim, session, 420, ["Paczka zawiera %d faktur; limit sesji to %d." % (len(members), limit)])
        return
    if not members:
        _fail(sim, session, 440, ["Nie przesłano faktur"])
        return
    invoicing = session["dateCreated"]
    context_nip = session["context"]["value"]
    with sim.state.lock:  # resumed after a restart: files already committed are not processed twice
        done = {store.entries[r]["invoiceFileName"] for r in session["invoiceRefs"] if r in store.entries}
    members = [m for m in members if m.name[-128:] not in done]
    for start in range(0, len(members), COMMIT_CHUNK):
        chunk = members[start : start + COMMIT_CHUNK]
        acceptance = warsaw_date(sim.clock.now())
        checked = []
        for member in chunk:
            if member.data is None:
                checked.append((member, None))
                continue
            check = check_invoice(
                member.data,
                context_nip=context_nip,
                acceptance_date=acceptance,
                form_code=session["formCode"],
                allow_attachment=True,
            )
            checked.append((member, check))
        with sim.state.lock:
            for member, check in checked:
                data = member.data
                entry = store.add_entry(
                    session,
                    sha256_b64(data) if data is not None else sha256_b64(b""),
                    len(data) if data is not None else member.size,
                    invoicing,
                    session.get("offlineMode"),
                    file_name=member.name[-128:],
                )
                if check is None:
                    store.fail_entry(entry, 430, ["Plik %s przekracza dopuszczalny rozmiar faktury." % member.name])
                else:
                    store.commit(session, entry, check, data)
    with sim.state.lock:
        session["key"] = None
        store.finish_session(session)


@hook("init")
def _resume(sim):
    """Restart the processing of batch sessions that were closed when the simulator stopped."""
    store = store_of(sim)
    for ref, session in list(store.sessions.items()):
        if session["type"] == "Batch" and session["status"]["code"] == 150:
            threading.Thread(target=process_batch, args=(sim, ref), name="ksef-sim-batch", daemon=True).start()
