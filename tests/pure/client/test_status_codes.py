"""Status codes → machine-readable state + PL/EN messages naming cause and fix."""

import pytest

from ksef_core.client import status_codes
from ksef_core.client.results import InvoiceResult


@pytest.mark.parametrize(
    ("kind", "code", "state", "final", "ok"),
    [
        ("auth", 100, "in_progress", False, False),
        ("auth", 200, "success", True, True),
        ("auth", 415, "no_permissions", True, False),
        ("auth", 450, "bad_token", True, False),
        ("auth", 460, "bad_certificate", True, False),
        ("auth", 480, "blocked", True, False),
        ("session", 170, "closed", False, False),
        ("session", 200, "processed", True, True),
        ("session", 445, "no_valid_invoices", True, False),
        ("invoice", 150, "processing", False, False),
        ("invoice", 200, "success", True, True),
        ("invoice", 410, "permission_scope", True, False),
        ("invoice", 440, "duplicate", True, True),
        ("invoice", 450, "semantic_error", True, False),
        ("export", 210, "expired", True, False),
    ],
)
def test_known_codes(kind, code, state, final, ok):
    info = status_codes.describe(kind, code)
    assert (info.state, info.final, info.ok) == (state, final, ok)
    assert info.message("en") != info.message("pl")
    assert info.message("pl-PL") == info.message_pl


def test_every_failure_message_says_what_to_do():
    for kind, table in status_codes._STATUS.items():
        for code in table:
            info = status_codes.describe(kind, code)
            if info.final and not info.ok:
                assert ":" in info.message_en and ":" in info.message_pl, (kind, code)


def test_permission_message_names_the_ksef_wording():
    info = status_codes.describe("invoice", 410)
    assert "InvoiceWrite" in info.message_en and "wystawianie faktur" in info.message_en
    assert "wystawianie faktur" in info.message_pl


def test_unknown_codes_are_final_failures_and_small_codes_in_progress():
    assert status_codes.describe("invoice", 999).state == "unknown_status"
    assert status_codes.describe("invoice", 999).final
    assert not status_codes.describe("session", 120).final


def test_ksef_details_are_appended_to_failures():
    info = status_codes.describe_status("invoice", {"code": 450, "description": "x", "details": ["P_15 wrong"]})
    assert "P_15 wrong" in info.message_en and "P_15 wrong" in info.message_pl


def test_duplicate_yields_the_original_number():
    result = InvoiceResult("INV/1", "hash")
    result.update(
        {
            "referenceNumber": "20260101-EE-0000000000-0000000000-00",
            "status": {
                "code": 440,
                "description": "Duplikat faktury",
                "extensions": {"originalKsefNumber": "5265877635-20250826-0100001AF629-AF"},
            },
        }
    )
    assert result.ok and result.duplicate and result.ksef_number == "5265877635-20250826-0100001AF629-AF"
    assert result.to_dict()["state"] == "duplicate"


def test_exception_codes_and_reasons():
    assert status_codes.describe_exception(21470)[0] == "public_key_unknown"
    assert status_codes.describe_exception("21165")[0] == "invoice_not_yet_available"
    assert status_codes.describe_exception(1) is None
    en, pl = status_codes.describe_reason("missing-permissions")
    assert "InvoiceWrite" in en and "przeglądanie faktur" in pl
