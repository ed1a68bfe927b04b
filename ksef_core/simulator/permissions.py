"""Permissions of subjects in contexts, as the simulator's authorisation source.

* The owner of a NIP context (subject NIP == context NIP) has every permission.
* Anybody else (another NIP, a PESEL, a certificate SHA-256 fingerprint) has what was granted with
  ``sim.grant(context_nip, subject, permissions)`` (or ``POST /_sim/grants``).
* ``sim.permissions.block_context(nip)`` makes authentication in that context end with 480.
"""

import re

from ..nip import normalize_nip
from .errors import validation_error

ALL_PERMISSIONS = (
    "InvoiceRead",
    "InvoiceWrite",
    "CredentialsRead",
    "CredentialsManage",
    "SubunitManage",
    "EnforcementOperations",
    "Introspection",
    "CollectiveIdentifierManage",
)
OWNER_PERMISSIONS = (
    "InvoiceRead",
    "InvoiceWrite",
    "CredentialsRead",
    "CredentialsManage",
    "SubunitManage",
    "Introspection",
    "CollectiveIdentifierManage",
)
KNOWN_PERMISSIONS = (*ALL_PERMISSIONS, "PefInvoiceWrite", "VatUeManage")
SUBJECT_TYPES = ("Nip", "Pesel", "Fingerprint")


def parse_subject(subject):
    """``{"type", "value"}`` from a dict or a plain string (10 digits NIP, 11 PESEL, 64 hex fingerprint)."""
    if isinstance(subject, dict):
        stype, value = subject.get("type"), str(subject.get("value") or "").strip()
        norm = {t.lower(): t for t in SUBJECT_TYPES}.get(str(stype or "").lower())
        if not norm or not value:
            raise validation_error("subject must have type Nip, Pesel or Fingerprint and a value")
        stype = norm
    else:
        value = str(subject or "").strip()
        if re.fullmatch(r"\d{11}", value):
            stype = "Pesel"
        elif re.fullmatch(r"[0-9A-Fa-f]{64}", value):
            stype = "Fingerprint"
        else:
            stype = "Nip"
    if stype == "Nip":
        value = normalize_nip(value)
        if not re.fullmatch(r"\d{10}", value):
            raise validation_error("subject NIP must have 10 digits")
    elif stype == "Fingerprint":
        value = value.upper()
    return {"type": stype, "value": value}


def check_permission_names(permissions):
    permissions = list(permissions or ())
    unknown = [p for p in permissions if p not in KNOWN_PERMISSIONS]
    if unknown:
        raise validation_error("unknown permission(s): %s" % ", ".join(map(str, unknown)))
    return permissions


def _subject_key(subject):
    return "%s:%s" % (subject["type"], subject["value"])


class PermissionStore:
    """``sim.permissions``: grants per context and blocked contexts."""

    def __init__(self, sim):
        self.sim = sim
        self.grants = sim.state.bucket("grants")  # "Nip:<ctx>" -> {"Pesel:<x>": [perms]}
        self.blocked = sim.state.bucket("blocked_contexts")  # "Nip:<ctx>" -> True

    @staticmethod
    def _ctx_key(context_value, context_type="Nip"):
        if context_type == "Nip":
            context_value = normalize_nip(context_value)
        return "%s:%s" % (context_type, context_value)

    def grant(self, context_nip, subject, permissions, context_type="Nip"):
        subject = parse_subject(subject)
        permissions = check_permission_names(permissions)
        with self.sim.state.lock:
            ctx = self.grants.setdefault(self._ctx_key(context_nip, context_type), {})
            current = set(ctx.get(_subject_key(subject), ()))
            current.update(permissions)
            ctx[_subject_key(subject)] = sorted(current)
            self.sim.state.mark_dirty()
            return list(ctx[_subject_key(subject)])

    def revoke(self, context_nip, subject, permissions=None, context_type="Nip"):
        subject = parse_subject(subject)
        with self.sim.state.lock:
            ctx = self.grants.get(self._ctx_key(context_nip, context_type), {})
            key = _subject_key(subject)
            if permissions is None:
                ctx.pop(key, None)
            else:
                remaining = [p for p in ctx.get(key, ()) if p not in set(permissions)]
                if remaining:
                    ctx[key] = remaining
                else:
                    ctx.pop(key, None)
            self.sim.state.mark_dirty()

    def effective(self, context_type, context_value, subjects):
        """Permissions the given subject identifiers have in the context (owner → all)."""
        perms = set()
        with self.sim.state.lock:
            ctx = self.grants.get(self._ctx_key(context_value, context_type), {})
            for subject in subjects:
                if not subject:
                    continue
                if context_type == "Nip" and subject["type"] == "Nip" and subject["value"] == context_value:
                    perms.update(OWNER_PERMISSIONS)
                perms.update(ctx.get(_subject_key(subject), ()))
        return perms

    def block_context(self, context_value, context_type="Nip"):
        with self.sim.state.lock:
            self.blocked[self._ctx_key(context_value, context_type)] = True
            self.sim.state.mark_dirty()

    def unblock_context(self, context_value, context_type="Nip"):
        with self.sim.state.lock:
            self.blocked.pop(self._ctx_key(context_value, context_type), None)
            self.sim.state.mark_dirty()

    def is_blocked(self, context_value, context_type="Nip"):
        return bool(self.blocked.get(self._ctx_key(context_value, context_type)))
