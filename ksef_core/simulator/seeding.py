"""Seeding the simulator with incoming invoices issued by other companies.

* :func:`seed_incoming` stores one FA(3) invoice as if its seller had sent it
  in an online session: full checks (except that the seller need not be a
  logged-in context), a KSeF number, UPO, and visibility for every party.
* :func:`seed_from_dir` does the same for every ``*.xml`` file of a folder
  (e.g. the official MF samples), with controllable dates.

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


@hook("seed")
def _seed(sim, directory):
    return seed_from_dir(sim, directory)
