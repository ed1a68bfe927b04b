"""Validate FA(3) XML bytes: ``validate_fa3`` (list of issues) and ``ensure_valid_fa3`` (raises)."""

from .errors import Fa3FormatError
from .fmt import issue
from .parser import load_fa3_root


def validate_fa3(xml_bytes):
    """Return the list of :class:`~.messages.ValidationIssue` of ``xml_bytes`` (empty = valid FA(3)).

    A file that is not an FA(3) invoice at all (unsafe, malformed, FA(2), other
    XML) gives one issue whose ``code`` is the refusal code (e.g. ``fa3_is_fa2``).
    """
    from .errors import Fa3ValidationError

    try:
        load_fa3_root(xml_bytes, validate=True)
    except Fa3ValidationError as exc:
        return exc.issues
    except Fa3FormatError as exc:
        return [issue("Faktura", "Faktura", exc.message_en, exc.message_pl, code=exc.code)]
    return []


def ensure_valid_fa3(xml_bytes):
    """Raise unless ``xml_bytes`` is a valid FA(3) invoice; returns the parsed root element.

    :raises Fa3FormatError: not FA(3) at all (unsafe, malformed, FA(2), other XML).
    :raises Fa3ValidationError: FA(3) but schema-invalid; ``.issues`` lists every problem.
    """
    return load_fa3_root(xml_bytes, validate=True)
