"""Seeding the simulator with incoming invoices issued by other companies.

* :func:`seed_incoming` stores one FA(3) invoice as if its seller had sent it
  in an online session: full checks (except that the seller need not be a
  logged-in context), a KSeF number, UPO, and visibility for every party.
* :func:`seed_from_dir` does the same for every ``*.xml`` file of a folder
  (e.g. the official MF samples), with controllable dates.
* :func:`seed_raw` (TEST ONLY) stores any bytes, unchecked, as an invoice a
  given seller issued to a given buyer: what a buyer's import does with a file
  KSeF itself would have refused (hostile-input tests and benchmarks).

Both are also available as ``sim.seed_incoming(...)`` / ``sim.seed_from_dir(...)``;
``sim.seed(dir)``, the CLI option ``--seed-dir`` and ``POST /_sim/seed`` call
:func:`seed_from_dir` through the ``seed`` hook.

Seeding is idempotent: an invoice whose seller NIP + RodzajFaktury + P_2 is
already stored is not added again; its existing KSeF number is returned.
"""

import datetime as dt
import logging
import re
from pathlib import Path

from ..errors import InputError
from ..hashing import sha256_b64
from .clock import parse_iso
from .invoice_checks import check_invoice
from .routing import hook
from .storage_invoices import store_of, warsaw_date

_logger = logging.getLogger(__name__)
_P1 = re.compile(rb"(<(?:\w+:)?P_1>)\d{4}-\d{2}-\d{2}(</(?:\w+:)?P_1>)")


def _moment(value, default):
    if value is None:
        return default
    if isinstance(value, str):
        return parse_iso(value)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, 12, tzinfo=dt.timezone.utc)
    raise TypeError("acquisition_time must be a datetime, a date or ISO text")


def with_issue_date(xml_bytes, issue_date):
    """``xml_bytes`` with the issue date ``Fa/P_1`` replaced by ``issue_date`` (date or ISO text)."""
    text = issue_date.isoformat() if isinstance(issue_date, dt.date) else str(issue_date)
    return _P1.sub(lambda m: m.group(1) + text.encode("ascii") + m.group(2), xml_bytes, count=1)


def seed_incoming(sim, xml_bytes, acquisition_time=None, issue_date=None, offline=False):
    """Store ``xml_bytes`` (an FA(3) invoice of any seller) and return its KSeF number.

    :param acquisition_time: when KSeF "received" it (datetime/date/ISO, default: simulator now);
        invoicingDate = acquisitionDate = this, permanentStorageDate = this + the storage delay
    :param issue_date: if given, replaces ``P_1`` before storing (the hash is that of the new bytes)
    :param offline: mark as sent in offline mode (``invoicingMode`` Offline)
    :raises InputError: the invoice fails the KSeF checks (message names the reason)
    """
    if issue_date is not None:
        xml_bytes = with_issue_date(xml_bytes, issue_date)
    store = store_of(sim)
    moment = _moment(acquisition_time, sim.clock.now())
    check = check_invoice(xml_bytes, context_nip=None, acceptance_date=warsaw_date(moment))
    if not check.ok:
        where = ", ".join(e for e in check.elements if e) or "-"
        raise InputError(
            "The invoice cannot be seeded: KSeF would refuse it with status %d (%s); failing element(s): %s. "
            "Fix the file or choose dates so that P_1 is not after the acquisition date."
            % (check.code, check.description, where),
            "Nie można dodać faktury: KSeF odrzuciłby ją ze statusem %d (%s); błędne elementy: %s. "
            "Popraw plik lub wybierz daty tak, by P_1 nie była późniejsza niż data przyjęcia."
            % (check.code, check.description, where),
            code="seed_invalid",
            details={"status": check.code, "elements": [e for e in check.elements if e]},
        )
    with sim.state.lock:
        existing = store.duplicates.get(check.facts.duplicate_key)
        if existing:
            return existing
        principal = _SellerContext(check.facts.seller_nip)
        session = store.new_session("Online", principal, None, None, None)
        session["dateCreated"] = session["dateUpdated"] = moment
        entry = store.add_entry(session, check.facts.invoice_hash, check.facts.size, moment, offline)
        store.commit(session, entry, check, xml_bytes, acquisition=moment)
        store.finish_session(session)
        session["dateClosed"] = session["dateUpdated"] = moment
        return entry["ksefNumber"]


def seed_raw(sim, raw_bytes, seller_nip, buyer_nip, invoice_number=None, acquisition_time=None):
    """TEST ONLY: store ``raw_bytes`` exactly as they are as an invoice of ``seller_nip`` to ``buyer_nip``.

    Nothing of the file is read or checked (it need not be XML at all): the buyer's query, export and
    download then hand out these very bytes, with metadata made up from the arguments (amounts 0,
    currency PLN, invoice type Vat, the file's real SHA-256 and size). Real KSeF never stores a file
    failing its checks; this exists so that tests can feed an importer hostile files through the
    receiving path. Returns the new KSeF number (every call stores a new invoice).

    :param seller_nip: a 10-digit NIP (the KSeF number is made from it; its checksum is not checked)
    :param buyer_nip: the NIP whose Subject2 queries see the invoice
    :param invoice_number: the ``invoiceNumber`` of the metadata (default: ``RAW/<n>``)
    """
    if not isinstance(raw_bytes, (bytes, bytearray)):
        raise TypeError("raw_bytes must be bytes")
    if not (isinstance(seller_nip, str) and len(seller_nip) == 10 and seller_nip.isdigit()):
        raise ValueError("seller_nip must be 10 digits")
    store = store_of(sim)
    moment = _moment(acquisition_time, sim.clock.now())
    data = bytes(raw_bytes)
    with sim.state.lock:
        counter = store.settings["_raw_seeded"] = store.settings.get("_raw_seeded", 0) + 1
        facts = _RawFacts(data, seller_nip, buyer_nip, invoice_number or "RAW/%d" % counter, warsaw_date(moment))
        principal = _SellerContext(seller_nip)
        session = store.new_session("Online", principal, None, None, None)
        session["dateCreated"] = session["dateUpdated"] = moment
        entry = store.add_entry(session, facts.invoice_hash, facts.size, moment, False)
        store.commit(session, entry, _RawCheck(facts), data, acquisition=moment)
        store.finish_session(session)
        session["dateClosed"] = session["dateUpdated"] = moment
        return entry["ksefNumber"]


class _RawCheck:
    """A passed :class:`~.invoice_checks.InvoiceCheck` for :func:`seed_raw` (nothing was checked)."""

    ok = True
    code = 200
    details = ()

    def __init__(self, facts):
        self.facts = facts


class _RawFacts:
    """The :class:`~.invoice_checks.InvoiceFacts` of a raw file: made up from the caller's arguments."""

    def __init__(self, data, seller_nip, buyer_nip, invoice_number, issue_date):
        self.size = len(data)
        self.invoice_hash = sha256_b64(data)
        self.seller_nip = seller_nip
        self.seller_name = None
        self.buyer = {"identifier": {"type": "Nip", "value": buyer_nip}, "name": None}
        self.invoice_number = invoice_number
        self.rodzaj = "VAT"
        self.invoice_type = "Vat"
        self.currency = "PLN"
        self.issue_date = issue_date
        self.is_self_invoicing = False
        self.has_attachment = False
        self.net = self.vat = self.gross = 0.0
        self.third_subjects = []
        self.authorized_subject = None

    @property
    def duplicate_key(self):
        # a raw file is never refused as a duplicate (nor makes a real invoice one)
        return "raw|%s|%s|%s" % (self.seller_nip, self.invoice_number, self.invoice_hash)

    def party_nips(self):
        return {
            "Subject1": [self.seller_nip],
            "Subject2": [self.buyer["identifier"]["value"]],
            "Subject3": [],
            "SubjectAuthorized": [],
        }


class _SellerContext:
    """Minimal stand-in for a Principal: the seller's NIP context."""

    context_type = "Nip"
    token_ref = None
    auth_ref = None

    def __init__(self, nip):
        self.context_value = nip


def seed_from_dir(sim, path, acquisition_time=None, spacing_seconds=60.0, issue_date=None, pattern="*.xml"):
    """Seed every file matching ``pattern`` in ``path`` (sorted by name).

    The n-th file is acquired at ``acquisition_time + n * spacing_seconds`` (default start:
    simulator now minus ``len(files) * spacing_seconds``, so all are already stored).
    Returns a list of ``{"file", "ksefNumber", "error"}`` dicts (error = None when seeded).
    """
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(
            "Seed folder %s does not exist or is not a folder." % folder,
            "Folder z fakturami do załadowania %s nie istnieje lub nie jest folderem." % folder,
            code="seed_dir_missing",
        )
    files = sorted(p for p in folder.glob(pattern) if p.is_file())
    start = _moment(acquisition_time, sim.clock.now() - dt.timedelta(seconds=spacing_seconds * (len(files) + 1)))
    results = []
    for index, file in enumerate(files):
        moment = start + dt.timedelta(seconds=spacing_seconds * index)
        try:
            number = seed_incoming(sim, file.read_bytes(), acquisition_time=moment, issue_date=issue_date)
            results.append({"file": file.name, "ksefNumber": number, "error": None})
        except InputError as exc:
            _logger.warning("seed file %s skipped (status %s)", file.name, exc.details.get("status"))
            results.append({"file": file.name, "ksefNumber": None, "error": exc.message_en})
    return results


@hook("init")
def _install(sim):
    sim.seed_incoming = lambda xml_bytes, **kw: seed_incoming(sim, xml_bytes, **kw)
    sim.seed_from_dir = lambda path, **kw: seed_from_dir(sim, path, **kw)
    sim.seed_raw = lambda raw_bytes, seller_nip, buyer_nip, **kw: seed_raw(sim, raw_bytes, seller_nip, buyer_nip, **kw)


@hook("seed")
def _seed(sim, directory):
    return seed_from_dir(sim, directory)
