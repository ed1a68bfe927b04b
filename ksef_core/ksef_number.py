"""KSeF invoice numbers: format and CRC-8 checksum (API-NOTES section 7)."""

import re

_KSEF_RE = re.compile(
    r"^([1-9](\d[1-9]|[1-9]\d)\d{7})-(20[2-9][0-9]|2[1-9]\d{2}|[3-9]\d{3})"
    r"(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])-([0-9A-F]{6})-?([0-9A-F]{6})-([0-9A-F]{2})$"
)


def crc8(data, poly=0x07, init=0x00):
    """CRC-8/SMBUS: polynomial 0x07, init 0, MSB first, no reflection, no final XOR."""
    crc = init
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def checksum(first32):
    """Two uppercase hex digits of the CRC-8 over the first 32 characters."""
    return "%02X" % crc8(first32.encode("ascii"))


def is_valid_ksef_number(value):
    """True for a 35-character KSeF 2.0 number with a correct checksum.

    36-character KSeF 1.0 numbers pass the format check only (no checksum rule is
    published for them).
    """
    if not isinstance(value, str) or not _KSEF_RE.match(value):
        return False
    if len(value) == 36:
        return True
    return len(value) == 35 and checksum(value[:32]) == value[33:]


def make_ksef_number(nip, day, technical_hex):
    """Build a KSeF number from the seller NIP, a ``date`` and 12 hex characters."""
    technical = technical_hex.upper()
    if len(technical) != 12 or not re.match(r"^[0-9A-F]{12}$", technical):
        raise ValueError("technical part must be 12 hex characters")
    first32 = "%s-%s-%s" % (nip, day.strftime("%Y%m%d"), technical)
    return "%s-%s" % (first32, checksum(first32))


def ksef_number_nip(value):
    """The seller NIP embedded in a KSeF number."""
    return value.split("-", 1)[0]


# -- collective identifiers (identyfikator zbiorczy, API 2.7.0 ``POST /collective-identifiers``) ----------------
# ``NIP-IZRRRRMM-XXXXXXXXXXXX-CC``: the seller's NIP, "IZ" and the year + month of creation, 12 uppercase hex
# characters, the same CRC-8 as a KSeF number over the first 32 characters. One transfer paying several
# invoices of one seller quotes it in its title (art. 108g of the VAT Act, from 2027).
_COLLECTIVE_RE = re.compile(r"^(\d{10})-IZ(\d{4})(0[1-9]|1[0-2])-([0-9A-F]{12})-([0-9A-F]{2})$")


def make_collective_identifier(nip, day, technical_hex):
    """Build a collective identifier from the seller NIP, a ``date`` (its year and month) and 12 hex characters."""
    technical = technical_hex.upper()
    if len(technical) != 12 or not re.match(r"^[0-9A-F]{12}$", technical):
        raise ValueError("technical part must be 12 hex characters")
    first32 = "%s-IZ%s-%s" % (nip, day.strftime("%Y%m"), technical)
    return "%s-%s" % (first32, checksum(first32))


def is_valid_collective_identifier(value):
    """True for a 35-character collective identifier with a correct CRC-8 checksum."""
    if not isinstance(value, str) or not _COLLECTIVE_RE.match(value):
        return False
    return checksum(value[:32]) == value[33:]


def collective_identifier_nip(value):
    """The seller NIP embedded in a collective identifier."""
    return value.split("-", 1)[0]


# -- finding them in a bank statement line's label ----------------------------------------------------------------
# Banks deliver transfer titles as the payer typed them: lower case, split by spaces or dashes, with other text
# around. The label is squeezed (spaces and dashes removed, upper case) and every place where a number could
# start is tried; the format and the CRC-8 keep what is not a number out.
_SQUEEZE_RE = re.compile(r"[\s\-]+")
_KSEF_CANDIDATE_RE = re.compile(r"(?=(\d{10})(\d{8})([0-9A-F]{12})([0-9A-F]{2}))")
_COLLECTIVE_CANDIDATE_RE = re.compile(r"(?=(\d{10})(IZ\d{6})([0-9A-F]{12})([0-9A-F]{2}))")


def _found(pattern, squeezed, check):
    found = []
    for match in pattern.finditer(squeezed):
        value = "-".join(match.groups())
        if check(value) and value not in found:
            found.append(value)
    return found


def find_ksef_numbers(text, legacy=False):
    """KSeF 2.0 numbers and collective identifiers quoted in ``text`` (a transfer title), each in its canonical
    form, in the order they appear: ``(ksef_numbers, collective_identifiers)``.

    ``legacy``: the numbers also include, after the KSeF 2.0 ones, the KSeF 1.0 form (36 characters, its
    technical part split by a dash) of each place that has a number's shape (with or without a KSeF 2.0
    checksum: the same digits may be both): an
    invoice issued in KSeF 1.0 (before February 2026) is paid with that number in the title, and no checksum
    rule is published for it, so only an invoice stored with that number can confirm it."""
    squeezed = _SQUEEZE_RE.sub("", str(text or "")).upper()
    numbers = _found(_KSEF_CANDIDATE_RE, squeezed, is_valid_ksef_number)
    if legacy:
        for match in _KSEF_CANDIDATE_RE.finditer(squeezed):
            nip, day, technical, check = match.groups()
            value = "-".join((nip, day, technical[:6], technical[6:], check))
            if value not in numbers and is_valid_ksef_number(value):
                numbers.append(value)
    return numbers, _found(_COLLECTIVE_CANDIDATE_RE, squeezed, is_valid_collective_identifier)
