"""KSeF certificates: the store behind ``/certificates/*`` (``sim.certificates``); routes in ``certificates_api.py``.

* Certificates belong to the signed-in identity (``Nip``, ``Pesel`` or ``Fingerprint``), never to a context.
  A XAdES login records the signer's DN (``auth_ops[ref]["certificate"]``); the enrolment data come from it:
  a person (commonName, givenName, surname, serialNumber ``TINPL-<NIP>`` / ``PNOPL-<PESEL>``, countryName,
  uniqueIdentifier if present) or a seal (commonName, organizationName, organizationIdentifier ``VATPL-<NIP>``,
  countryName, uniqueIdentifier if present). Several given names come as one string joined by spaces (the
  contract's ``givenName`` is a string; ksef-docs speak of a list, which the official SDKs do not read).
* Enrolments are processed asynchronously: the first ``pending_polls`` (1) status polls answer 100, or
  ``processing_seconds`` (5) of simulated time pass; then the certificate is issued (200 + serial) by the
  simulator's CA (:mod:`.ksef_ca`), or the request is rejected (400: key already certified for another
  identity, active-certificate limit reached).
* Limits per identity: NIP 300 requests / 100 active certificates, PESEL and fingerprint 12 / 6
  (``LIMITS``; change ``sim.certificates.limits`` in tests).
* A KSeF certificate used for a XAdES login: revoked → status 460, expired → 460, unknown to the store but issued
  by the simulator's CA → 460; type Offline → 400/21115 (``auth_xades.py``). Its identity is the one it was
  issued to (also a fingerprint identity).
"""

import datetime
import re

from ..certenroll import FIELD_BY_OID, subject_differences
from ..credentials import certificate_info
from ..x509util import certificate_der, name_to_rfc4514
from .clock import iso
from .errors import ApiError, bad_request
from .ksef_ca import SimulatorCA, check_csr, spki_der
from .refs import new_reference
from .routing import hook

LIMITS = {"Nip": (300, 100), "Pesel": (12, 6), "Fingerprint": (12, 6)}  # (requests, active certificates)
STATUS_TEXT = {
    100: "Wniosek przyjęty do realizacji",
    200: "Wniosek obsłużony (certyfikat wygenerowany)",
    400: "Wniosek odrzucony",
    500: "Nieznany błąd",
    550: "Operacja została anulowana przez system",
}
_PERSON_FIELDS = ("commonName", "givenName", "surname", "serialNumber", "uniqueIdentifier", "countryName")
_SEAL_FIELDS = ("commonName", "organizationName", "organizationIdentifier", "uniqueIdentifier", "countryName")
_NIP_RE = re.compile(r"(TINPL|NIP).*?(\d{10})")
_PESEL_RE = re.compile(r"(PNOPL|PESEL).*?(\d{11})")
_VATPL_RE = re.compile(r"(VATPL).*?(\d{10})")
STATUS_RETENTION = datetime.timedelta(days=30)


def identity_key(identity):
    return "%s:%s" % (identity["type"], identity["value"])


def signer_record(cert, subject):
    """What a XAdES login keeps of the signer: DN attributes, fingerprint, KSeF serial (None if not ours)."""
    attrs = []
    for attr in cert.subject:
        if isinstance(attr.value, str):
            attrs.append((attr.oid.dotted_string, attr.value))
    return {"attrs": attrs, "subject": dict(subject), "dn": name_to_rfc4514(cert.subject)}


def enrollment_data_for(signer):
    """``CertificateEnrollmentDataResponse`` of a signer (see the module doc)."""
    values = {}
    for oid, value in signer["attrs"]:
        field = FIELD_BY_OID.get(oid)
        if field:
            values.setdefault(field, []).append(value)
    seal = bool(values.get("organizationIdentifier")) and not (values.get("givenName") or values.get("surname"))
    out = {}
    for field in _SEAL_FIELDS if seal else _PERSON_FIELDS:
        items = values.get(field) or []
        if field == "serialNumber" and items:
            text = items[0]
            nip, pesel = _NIP_RE.search(text), _PESEL_RE.search(text)
            items = ["TINPL-%s" % nip.group(2)] if nip else ["PNOPL-%s" % pesel.group(2)] if pesel else items[:1]
        elif field == "organizationIdentifier" and items:
            m = _VATPL_RE.search(items[0])
            items = ["VATPL-%s" % m.group(2)] if m else items[:1]
        if field == "givenName" and len(items) > 1:
            out[field] = " ".join(items)  # the contract (and the SDKs) have one string
        elif items:
            out[field] = items[0]
    out.setdefault("commonName", signer.get("dn") or "")
    out.setdefault("countryName", "PL")
    return out


class CertificateStore:
    """``sim.certificates``: the CA, enrolments (bucket ``cert_enrollments``) and certificates (``ksef_certs``)."""

    def __init__(self, sim):
        self.sim = sim
        self.ca = SimulatorCA(sim)
        self.enrollments = sim.state.bucket("cert_enrollments")  # reference -> record
        self.certs = sim.state.bucket("ksef_certs")  # serial -> record
        self.limits = dict(LIMITS)
        self.pending_polls = 1
        self.processing_seconds = 5

    # -- identities ---------------------------------------------------------------------------------
    def limits_for(self, identity):
        return self.limits.get(identity["type"], LIMITS["Pesel"])

    def usage(self, identity):
        """``(requests made, active certificates)`` of an identity."""
        key = identity_key(identity)
        requests = sum(1 for e in self.enrollments.values() if e["owner"] == key)
        active = sum(1 for c in self.certs.values() if c["owner"] == key and self.status_of(c) == "Active")
        return requests, active

    def status_of(self, record):
        if record["status"] != "Active":
            return record["status"]
        if self.sim.clock.now() > record["validTo"]:
            return "Expired"
        return "Active"

    # -- enrolment ----------------------------------------------------------------------------------
    def enroll(self, identity, signer, name, certificate_type, csr_der, valid_from):
        """Checks of ``POST /certificates/enrollments`` (25003/25004/25006/25007/25010/25011) → the record."""
        csr = check_csr(csr_der)
        data = enrollment_data_for(signer)
        diffs = subject_differences(csr.subject, data)
        if diffs:
            raise bad_request(
                25003, "Dane w CSR nie zgadzają się z danymi w użytym wektorze uwierzytelniającym.", diffs
            )
        max_requests, max_active = self.limits_for(identity)
        requests, active = self.usage(identity)
        if requests >= max_requests:
            raise bad_request(25006, "Osiągnięto limit możliwych do złożenia wniosków certyfikacyjnych.")
        if active >= max_active:
            raise bad_request(25007, "Osiągnięto limit dopuszczalnej liczby posiadanych certyfikatów.")
        now = self.sim.clock.now()
        ref = new_reference(self.sim.clock, "EH")
        record = {
            "referenceNumber": ref,
            "owner": identity_key(identity),
            "identity": dict(identity),
            "requestDate": now,
            "name": name,
            "type": certificate_type,
            "csr": bytes(csr_der),
            "validFrom": valid_from,
            "status": {"code": 100, "description": STATUS_TEXT[100]},
            "serial": None,
            "polls": 0,
        }
        self.enrollments[ref] = record
        self.sim.state.mark_dirty()
        return record

    def _ready(self, record):
        elapsed = (self.sim.clock.now() - record["requestDate"]).total_seconds()
        return record["polls"] >= self.pending_polls or elapsed >= self.processing_seconds

    def process(self, record, polled=False):
        """Issue (or reject) an enrolment once it is ready; a poll before that counts towards readiness."""
        if record["status"]["code"] != 100:
            return record
        if not self._ready(record):
            if polled:
                record["polls"] += 1
            return record
        csr = check_csr(record["csr"])
        spki = spki_der(csr.public_key())
        taken = any(c["spki"] == spki and c["owner"] != record["owner"] for c in self.certs.values())
        _requests, active = self.usage(record["identity"])
        if taken:
            record["status"] = self._rejected("Klucz publiczny został już certyfikowany przez inny podmiot.")
        elif active >= self.limits_for(record["identity"])[1]:
            record["status"] = self._rejected("Osiągnięto dopuszczalny limit posiadanych certyfikatów.")
        else:
            valid_from = record["validFrom"] or self.sim.clock.now()
            serial, der, not_before, not_after = self.ca.issue(csr, record["type"], valid_from)
            common_names = [a.value for a in csr.subject if a.oid.dotted_string == "2.5.4.3"]
            self.certs[serial] = {
                "serial": serial,
                "owner": record["owner"],
                "identity": dict(record["identity"]),
                "name": record["name"],
                "type": record["type"],
                "commonName": common_names[0] if common_names else "",
                "status": "Active",
                "validFrom": not_before,
                "validTo": not_after,
                "requestDate": record["requestDate"],
                "lastUseDate": None,
                "der": der,
                "spki": spki,
                "revocationReason": None,
            }
            record["serial"] = serial
            record["status"] = {"code": 200, "description": STATUS_TEXT[200]}
        self.sim.state.mark_dirty()
        return record

    @staticmethod
    def _rejected(reason):
        return {"code": 400, "description": STATUS_TEXT[400], "details": [reason]}

    def process_ready(self, identity):
        key = identity_key(identity)
        for record in list(self.enrollments.values()):
            if record["owner"] == key:
                self.process(record)

    def enrollment(self, identity, ref):
        record = self.enrollments.get(ref)
        if record is None or record["owner"] != identity_key(identity):
            raise bad_request(25005, "Wniosek certyfikacyjny o podanym numerze referencyjnym nie istnieje.")
        if self.sim.clock.now() - record["requestDate"] > STATUS_RETENTION:
            raise ApiError(410, None, "Operacja wygasła i nie jest już dostępna.")
        return self.process(record, polled=True)

    # -- certificates -------------------------------------------------------------------------------
    def owned(self, identity, serial):
        record = self.certs.get(serial)
        if record is None or record["owner"] != identity_key(identity):
            raise bad_request(25008, "Certyfikat o podanym numerze seryjnym nie istnieje.")
        return record

    def revoke(self, serial, reason="Unspecified", identity=None):
        record = self.owned(identity, serial) if identity is not None else self.certs.get(serial)
        if record is None:
            raise KeyError(serial)
        if self.status_of(record) != "Active":
            raise bad_request(
                25009,
                "Nie można odwołać wskazanego certyfikatu, ponieważ jest już odwołany, zablokowany lub nieważny.",
            )
        record["status"] = "Revoked"
        record["revocationReason"] = reason or "Unspecified"
        record["revocationDate"] = self.sim.clock.now()
        self.sim.state.mark_dirty()
        return record

    def expire(self, serial, valid_to=None):
        """Test helper (also ``PUT /testdata/certificates/{serial}``): the certificate ends at ``valid_to``
        (default now − 1 s); KSeF then treats it as Expired, whatever its DER says."""
        record = self.certs[serial]
        record["validTo"] = valid_to or self.sim.clock.now() - datetime.timedelta(seconds=1)
        self.sim.state.mark_dirty()
        return record

    def list_item(self, record):
        return {
            "certificateSerialNumber": record["serial"],
            "name": record["name"],
            "type": record["type"],
            "commonName": record["commonName"],
            "status": self.status_of(record),
            "subjectIdentifier": dict(record["identity"]),
            "validFrom": iso(record["validFrom"]),
            "validTo": iso(record["validTo"]),
            "lastUseDate": iso(record["lastUseDate"]) if record["lastUseDate"] else None,
            "requestDate": iso(record["requestDate"]),
        }

    # -- XAdES login --------------------------------------------------------------------------------
    def login_check(self, cert):
        """For a XAdES login with ``cert``: ``(None, None)`` if it is not a KSeF certificate of this simulator,
        else ``(record, problem)`` – ``problem`` is the 460 detail when it may not be used."""
        if not self.ca.issued_by_me(cert):
            return None, None
        info = certificate_info(cert)
        record = self.certs.get(info.serial_hex)
        if record is None or record["der"] != certificate_der(cert):
            return {}, "Certyfikat KSeF nieznany w systemie."
        status = self.status_of(record)
        if status == "Revoked":
            return record, "Certyfikat unieważniony."
        if status != "Active":
            return record, "Certyfikat nieważny (%s)." % status
        return record, None


@hook("init")
def _init(sim):
    sim.certificates = CertificateStore(sim)
