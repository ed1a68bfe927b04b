"""KSeF token shape checks (before any request), JWT claims and the persistable token state."""

import base64
import datetime
import json

import pytest

from ksef_core.client import KsefClient, TokenState, check_ksef_token
from ksef_core.client.tokens import jwt_permissions, parse_datetime
from ksef_core.errors import CredentialError, InputError

NIP = "5265877635"
REF = "20251010-EC-1DCE3E3000-12ECB5B36E-45"
SECRET = "919f704466624ce29cd5ac7b65ded5e7cccc112eee314f2aaa76e02cd16df7b9"
GOOD = "%s|nip-%s|%s" % (REF, NIP, SECRET)


def test_nip_token_is_accepted_and_secret_not_kept():
    info = check_ksef_token(GOOD, NIP)
    assert (info.context_type, info.context_value, info.nip, info.reference) == ("Nip", NIP, NIP, REF)
    assert SECRET not in repr(info)


def test_official_internal_id_example_is_accepted(vectors):
    token = "%s|internalId-%s-12345|%s" % (REF, NIP, SECRET)
    info = check_ksef_token(token, NIP)
    assert (info.context_type, info.context_value) == ("InternalId", NIP + "-12345")


@pytest.mark.parametrize(
    "token",
    [
        "%s|nip-%s" % (REF, NIP),  # missing secret
        "%s|nip-%s|%s" % (REF, NIP, SECRET[:-1]),  # 63 hex
        "%s|nip-%s|%sz" % (REF, NIP, SECRET[:-1]),  # not hex
        "XYZ|nip-%s|%s" % (NIP, SECRET),  # bad reference
        "%s|nip-526587763|%s" % (REF, SECRET),  # 9-digit NIP
        "%s|nip-5265877634|%s" % (REF, SECRET),  # NIP check digit wrong
        "%s|internalId-%s|%s" % (REF, NIP, SECRET),  # internalId without suffix
        "%s|pesel-%s|%s" % (REF, NIP, SECRET),
        "Bearer eyJhbGciOi.x.y",
    ],
)
def test_bad_token_shapes_are_refused_in_both_languages(token):
    with pytest.raises(CredentialError) as err:
        check_ksef_token(token, NIP)
    assert err.value.code == "token_shape"
    assert "token" in err.value.message_en.lower() and "token" in err.value.message_pl.lower()
    assert SECRET not in err.value.message_en and SECRET not in err.value.message_pl


def test_empty_token_has_its_own_message():
    with pytest.raises(CredentialError) as err:
        check_ksef_token("  ", NIP)
    assert err.value.code == "token_missing"


def test_token_of_another_nip_names_both_nips():
    other = "1111111111"
    with pytest.raises(CredentialError) as err:
        check_ksef_token("%s|nip-%s|%s" % (REF, other, SECRET), NIP)
    assert err.value.code == "token_nip_mismatch"
    assert other in err.value.message_en and NIP in err.value.message_pl


def test_client_refuses_bad_token_before_any_request():
    # An unroutable port: any request would fail differently (connection error), never CredentialError.
    with pytest.raises(CredentialError):
        KsefClient(custom_api_url="http://127.0.0.1:9/v2", nip=NIP, ksef_token="%s|nip-1111111111|%s" % (REF, SECRET))
    with pytest.raises(InputError) as err:
        KsefClient(custom_api_url="http://127.0.0.1:9/v2", nip="123", ksef_token=GOOD)
    assert err.value.code == "nip_format"


def _jwt(payload):
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    return "%s.%s.sig" % (enc({"alg": "none"}), enc(payload))


def test_permissions_are_read_from_jwt_claims():
    assert jwt_permissions(_jwt({"per": ["InvoiceWrite", "InvoiceRead"]})) == {"InvoiceWrite", "InvoiceRead"}
    # KSeF also serialises the array as a JSON string; excluded permissions are removed
    assert jwt_permissions(_jwt({"per": '["InvoiceWrite","InvoiceRead"]', "pec": ["InvoiceRead"]})) == {"InvoiceWrite"}
    assert jwt_permissions(_jwt({"pep": ["InvoiceRead"], "per": ["InvoiceWrite"]})) == {"InvoiceRead"}
    assert jwt_permissions(_jwt({"exp": 1})) is None
    assert jwt_permissions("not-a-jwt") is None


def test_token_state_roundtrip_and_expiry():
    state = TokenState(
        "ACC-SECRET-1",
        "2026-01-01T10:00:00.1234567+00:00",
        "REF-SECRET-2",
        "2026-01-08T10:00:00Z",
        "Nip:" + NIP,
        "token",
    )
    copy = TokenState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert copy == state
    now = datetime.datetime(2026, 1, 1, 9, 58, tzinfo=datetime.timezone.utc)
    assert state.access_valid(now)
    assert not state.access_valid(now, margin=180)  # refreshed ahead of expiry
    assert state.refresh_valid(now)
    assert "SECRET" not in repr(state)


def test_parse_datetime_handles_ksef_formats():
    assert parse_datetime("2025-07-11T12:23:56.0154302+00:00").microsecond == 15430
    assert parse_datetime("2025-07-11T12:23:56Z").tzinfo is not None
    assert parse_datetime("2025-07-11T14:23:56+02:00").hour == 12
