"""Polish tax identifier (NIP) checks."""

import re

from .errors import InputError

_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)
_NIP_RE = re.compile(r"^\d{10}$")
#: what separates the digits of a Tax ID as people write it ("PL 526-587-76-35", "526.587.76.35")
_VAT_SEPARATORS = re.compile(r"[\s\-./]")


def normalize_nip(value):
    """Strip spaces, dashes and a leading ``PL`` country prefix; return digits or ``""``."""
    if not value:
        return ""
    text = re.sub(r"[\s\-.]", "", str(value)).upper()
    if text.startswith("PL"):
        text = text[2:]
    return text


def polish_nip_in(vat, country_code=None):
    """The NIP a partner's Tax ID holds when it is written as a Polish one, else ``None``.

    Polish: a ``PL`` prefix ("PL 526-587-76-35", "pl5265877635"), or no letter prefix for a partner of
    Poland or of no country ("526-587-76-35"). Another prefix ("DE136695976"), or a number without
    prefix of a foreign partner, is not. Separators and the prefix are removed; the result is not
    checked (it may have a wrong length or check digit).
    """
    clean = _VAT_SEPARATORS.sub("", vat or "").upper()
    if not clean:
        return None
    prefix = clean[:2] if clean[:2].isalpha() else ""
    if prefix == "PL":
        return clean[2:]
    if not prefix and (country_code or "") in ("PL", ""):
        return clean
    return None


def indexed_nip(vat, country_code=None):
    """The 10 digits of the Polish NIP in a Tax ID (see :func:`polish_nip_in`), or ``""``: the key
    suppliers are found by."""
    nip = polish_nip_in(vat, country_code)
    return nip if nip and _NIP_RE.match(nip) else ""


def nip_checksum_ok(nip):
    """True when a 10-digit string has a valid NIP check digit (not all zeros)."""
    if not _NIP_RE.match(nip or "") or nip == "0000000000":
        return False
    total = sum(int(d) * w for d, w in zip(nip[:9], _WEIGHTS, strict=True))
    check = total % 11
    return check != 10 and check == int(nip[9])


def is_valid_nip(value):
    return nip_checksum_ok(normalize_nip(value))


def validate_nip(value, field_en="NIP", field_pl="NIP"):
    """Return the normalized NIP or raise :class:`InputError` with a clear message."""
    nip = normalize_nip(value)
    if not nip:
        raise InputError(
            "%s is empty: enter the 10-digit Polish tax number." % field_en,
            "%s jest pusty: wpisz 10-cyfrowy numer NIP." % field_pl,
            code="nip_missing",
        )
    if not _NIP_RE.match(nip):
        raise InputError(
            "%s '%s' is not a Polish NIP: it must have exactly 10 digits (a 'PL' prefix is allowed)."
            % (field_en, value),
            "%s '%s' nie jest numerem NIP: musi mieć dokładnie 10 cyfr (dopuszczalny prefiks 'PL')."
            % (field_pl, value),
            code="nip_format",
        )
    if not nip_checksum_ok(nip):
        raise InputError(
            "%s '%s' has a wrong check digit: please check it for a typo." % (field_en, value),
            "%s '%s' ma błędną cyfrę kontrolną: sprawdź, czy nie ma literówki." % (field_pl, value),
            code="nip_checksum",
        )
    return nip
