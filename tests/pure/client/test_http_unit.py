"""Error parsing (both KSeF formats) and the retry policy, without a server."""

import json

import requests

from ksef_core.client.errors import KsefApiError, KsefAuthError, KsefPermissionError, KsefRateLimited
from ksef_core.client.http import RetryPolicy, error_from_response, parse_error


def _response(status, body, headers=None):
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.headers.update(headers or {})
    return response


LEGACY = {
    "exception": {
        "exceptionDetailList": [
            {
                "exceptionCode": 21405,
                "exceptionDescription": "Błąd walidacji",
                "details": ["invoiceHash: za krótki"],
            }
        ],
        "referenceNumber": "x",
    }
}
PROBLEM = {
    "title": "Bad Request",
    "status": 400,
    "detail": "Nieprawidłowe żądanie",
    "errors": [{"code": 21470, "description": "Nieznany klucz", "details": ["publicKeyId"]}],
}


def test_legacy_format():
    codes, descriptions, details, _extra = parse_error(_response(400, LEGACY))
    assert codes == [21405] and descriptions == ["Błąd walidacji"] and details == ["invoiceHash: za krótki"]
    err = error_from_response(_response(400, LEGACY), "/sessions/online")
    assert isinstance(err, KsefApiError) and err.code == "validation_error" and err.exception_codes == [21405]
    assert "invoiceHash: za krótki" in err.message_en and "invoiceHash: za krótki" in err.message_pl


def test_problem_details_format():
    err = error_from_response(_response(400, PROBLEM), "/sessions/online")
    assert err.exception_codes == [21470] and err.code == "public_key_unknown"


def test_403_missing_permissions_lists_what_is_missing():
    body = {
        "title": "Forbidden",
        "status": 403,
        "detail": "Brak uprawnień",
        "reasonCode": "missing-permissions",
        "security": {"requiredAnyOfPermissions": ["InvoiceRead"], "presentPermissions": ["InvoiceWrite"]},
    }
    err = error_from_response(_response(403, body), "/invoices/query/metadata")
    assert isinstance(err, KsefPermissionError) and err.missing == ["InvoiceRead"]
    assert "przeglądanie faktur" in err.message_pl


def test_401_and_429():
    err = error_from_response(_response(401, {"title": "Unauthorized", "status": 401}), "/x")
    assert isinstance(err, KsefAuthError) and err.http_status == 401
    body = {"status": {"code": 429, "description": "Too Many Requests", "details": ["limit"]}}
    err = error_from_response(_response(429, body, {"Retry-After": "30"}), "/x")
    assert isinstance(err, KsefRateLimited) and err.retry_after == 30.0 and "30" in err.message_pl


def test_backoff_grows_is_capped_and_jittered():
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0, jitter=False)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    jittered = RetryPolicy(base_delay=1.0, max_delay=5.0)
    samples = {round(jittered.delay(3), 6) for _ in range(20)}
    assert len(samples) > 1 and all(2.0 <= s <= 4.0 for s in samples)
