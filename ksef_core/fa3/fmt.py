"""Deterministic text forms of FA(3) values, with bilingual errors for values that do not fit."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from .messages import ValidationIssue, label


def issue(element, path, en, pl, code="model", safe_en=None, safe_pl=None):
    """A :class:`ValidationIssue` about the model (no XML involved)."""
    return ValidationIssue(element, path, en, pl, safe_en or en, safe_pl or pl, None, None, code, "")


class Problems(list):
    """Collects :class:`ValidationIssue` objects while building.

    ``safe`` is an ``(en, pl)`` variant without invoice values (amounts, texts)
    for exception messages; give it whenever ``en`` / ``pl`` quote such values.
    """

    def add(self, element, path, en, pl, code="model", safe=None):
        names = (label(element, "en"), label(element, "pl"))
        safe = safe or (en, pl)
        self.append(
            issue(
                element,
                path,
                "%s: %s" % (names[0], en),
                "%s: %s" % (names[1], pl),
                code,
                "%s: %s" % (names[0], safe[0]),
                "%s: %s" % (names[1], safe[1]),
            )
        )


def to_decimal(value):
    if isinstance(value, float):
        # floats are refused on purpose: money is never binary floating point
        raise TypeError("float")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def fmt_number(value, places, element, path, problems):
    """Plain decimal text with at most ``places`` decimals (trailing zeros dropped), or None on error."""
    try:
        dec = to_decimal(value)
    except (TypeError, InvalidOperation):
        problems.add(
            element,
            path,
            "'%s' is not a number (use Decimal, never float)." % (value,),
            "'%s' nie jest liczbą (użyj Decimal, nigdy float)." % (value,),
            safe=(
                "the value is not a number (use Decimal, never float).",
                "wartość nie jest liczbą (użyj Decimal, nigdy float).",
            ),
        )
        return None
    if not dec.is_finite():
        problems.add(element, path, "the value is not a finite number.", "wartość nie jest liczbą skończoną.")
        return None
    if dec != dec.quantize(Decimal(1).scaleb(-places)):
        problems.add(
            element,
            path,
            "the value has more than %d decimal places; round it first." % places,
            "wartość ma więcej niż %d miejsc po przecinku; najpierw ją zaokrąglij." % places,
        )
        return None
    if dec == 0:
        return "0"
    text = format(dec.normalize(), "f")
    return text


def fmt_amount(value, element, path, problems):
    """Money: always exactly 2 decimals (``1626.01``, ``200.00``, ``-37.40``)."""
    text = fmt_number(value, 2, element, path, problems)
    if text is None:
        return None
    dec = Decimal(text).quantize(Decimal("0.01"))
    if dec == 0:
        dec = abs(dec)
    return format(dec, "f")


def fmt_date(value, element, path, problems):
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        problems.add(element, path, "a date is required.", "wymagana jest data.")
        return None
    return value.isoformat()


def fmt_datetime(value, element, path, problems):
    """ISO 8601 date-time; UTC written with ``Z``; naive values are taken as UTC."""
    if not isinstance(value, datetime):
        problems.add(element, path, "a date and time is required.", "wymagana jest data i godzina.")
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    spec = "microseconds" if value.microsecond else "seconds"
    text = value.isoformat(timespec=spec)
    if value.utcoffset() == timedelta(0):
        text = text[: -len("+00:00")] + "Z"
    return text


def parse_datetime(text):
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if "." in text:
        # Python 3.10 fromisoformat needs 3 or 6 fraction digits
        head, tail = text.split(".", 1)
        digits = ""
        for ch in tail:
            if ch.isdigit():
                digits += ch
            else:
                break
        rest = tail[len(digits) :]
        text = "%s.%s%s" % (head, (digits + "000000")[:6], rest)
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def flag12(value):
    """FA(3) yes/no code: 1 = yes, 2 = no."""
    return "1" if value else "2"
