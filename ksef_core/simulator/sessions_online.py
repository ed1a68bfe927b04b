"""Interactive (online) sessions: open, send invoices, close (API-NOTES section 3).

Each invoice is checked synchronously when it arrives (a few milliseconds), so
its status is final (200 or an error code) as soon as ``POST .../invoices``
answers 202.  Session status, invoice lists and UPO endpoints shared with batch
sessions live in :mod:`.inv_session_views`.
"""

from ..crypto import aes_decrypt
from ..hashing import sha256_b64
from . import inv_session_views  # noqa: F401  (registers the shared session routes)
from .errors import bad_request
from .inv_common import b64_field, bool_field, form_code, hash_field, int_field, session_key
from .invoice_checks import check_invoice
from .routing import json_response, route
from .storage_invoices import iso, session_status, store_of, warsaw_date

WRITE_PERMISSIONS = ("InvoiceWrite", "PefInvoiceWrite", "EnforcementOperations")


def _iso(value):
    return iso(value) if value is not None else None


def open_session(sim, principal, body):
    """Create an online session from an ``OpenOnlineSessionRequest`` body; returns the session dict."""
    store = store_of(sim)
    code = form_code(body)
    key, iv = session_key(sim, body)
    session = store.new_session("Online", principal, code, key, iv)
    if key is None:
        session["status"] = session_status(415)
    return session


@route("POST", "/sessions/online", permissions=WRITE_PERMISSIONS, rate_group="sessions_online")
def post_open_online(sim, ctx):
    body = ctx.json if isinstance(ctx.json, dict) else {}
    session = open_session(sim, ctx.principal, body)
    return json_response(
        {"referenceNumber": session["referenceNumber"], "validUntil": _iso(session["validUntil"])}, status=201
    )


def _open_online(store, ref, principal, action):
    session = store.get_session(ref, principal)
    if session["type"] != "Online":
        raise bad_request(
            21173,
            "Brak sesji o wskazanym numerze referencyjnym.",
            ["Sesja interaktywna o numerze referencyjnym %s nie została odnaleziona." % ref],
        )
    code = session["status"]["code"]
    if code != 100:
        raise bad_request(
            21180,
            "Status sesji nie pozwala na wykonanie operacji.",
            ["Status sesji %s uniemożliwia %s." % (code, action)],
        )
    return session


def send_invoice(sim, session, body):
    """Handle one ``SendInvoiceRequest`` for an open online ``session``; returns the entry dict."""
    store = store_of(sim)
    invoice_hash = hash_field(body, "invoiceHash")
    invoice_size = int_field(body, "invoiceSize")
    encrypted_hash = hash_field(body, "encryptedInvoiceHash")
    encrypted_size = int_field(body, "encryptedInvoiceSize")
    content = b64_field(body, "encryptedInvoiceContent")
    offline = bool_field(body, "offlineMode")
    corrected = hash_field(body, "hashOfCorrectedInvoice", required=False)
    limit = int(store.settings["session_invoice_limit"])
    if len(session["invoiceRefs"]) >= limit:
        raise bad_request(
            21155,
            "Przekroczono dozwoloną liczbę faktur w sesji.",
            [
                "Sesja o numerze referencyjnym %s osiągnęła dozwolony limit liczby faktur %d."
                % (session["referenceNumber"], limit)
            ],
        )
    if len(content) != encrypted_size:
        raise bad_request(
            21402,
            "Nieprawidłowy rozmiar pliku.",
            [
                "Zadeklarowany rozmiar zaszyfrowanej faktury %d B nie zgadza się z rzeczywistym %d B."
                % (encrypted_size, len(content))
            ],
        )
    if sha256_b64(content) != encrypted_hash:
        raise bad_request(
            21403,
            "Nieprawidłowy skrót pliku.",
            ["Skrót SHA-256 zaszyfrowanej faktury nie zgadza się z polem encryptedInvoiceHash."],
        )
    if corrected:
        store.check_correction(corrected)
    now = sim.clock.now()
    try:
        xml = aes_decrypt(session["key"], session["iv"], content)
    except Exception:
        xml = None
    if xml is not None:
        if len(xml) != invoice_size:
            raise bad_request(
                21402,
                "Nieprawidłowy rozmiar pliku.",
                [
                    "Zadeklarowany rozmiar faktury %d B nie zgadza się z rzeczywistym %d B po odszyfrowaniu."
                    % (invoice_size, len(xml))
                ],
            )
        if sha256_b64(xml) != invoice_hash:
            raise bad_request(
                21403,
                "Nieprawidłowy skrót pliku.",
                ["Skrót SHA-256 odszyfrowanej faktury nie zgadza się z polem invoiceHash."],
            )
    entry = store.add_entry(session, invoice_hash, invoice_size, now, offline, corrected)
    if xml is None:
        store.fail_entry(
            entry,
            435,
            ["Nie udało się odszyfrować faktury kluczem i wektorem IV podanymi przy otwarciu sesji."],
        )
        return entry
    check = check_invoice(
        xml,
        context_nip=session["context"]["value"],
        acceptance_date=warsaw_date(now),
        form_code=session["formCode"],
        allow_attachment=bool(corrected),
    )
    store.commit(session, entry, check, xml)
    return entry


@route(
    "POST",
    "/sessions/online/{referenceNumber}/invoices",
    permissions=WRITE_PERMISSIONS,
    rate_group="online_invoice",
)
def post_send_invoice(sim, ctx):
    store = store_of(sim)
    session = _open_online(store, ctx.param("referenceNumber"), ctx.principal, "wysyłkę faktur")
    body = ctx.json
    if not isinstance(body, dict):
        body = {}
    entry = send_invoice(sim, session, body)
    return json_response({"referenceNumber": entry["referenceNumber"]}, status=202)


@route(
    "POST",
    "/sessions/online/{referenceNumber}/close",
    permissions=WRITE_PERMISSIONS,
    rate_group="sessions_online",
)
def post_close_online(sim, ctx):
    store = store_of(sim)
    session = _open_online(store, ctx.param("referenceNumber"), ctx.principal, "jej zamknięcie")
    store.finish_session(session)
    from .routing import empty

    return empty(204)
