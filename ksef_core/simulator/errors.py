"""API errors of the simulator and their rendering in the KSeF formats.

Handlers raise :class:`ApiError` (or a subclass); the dispatcher renders it:

* legacy ``application/json`` ``{"exception": {"exceptionDetailList": [...], ...}}`` (default for 400 etc.),
* ``application/problem+json`` when the request carries ``X-Error-Format: problem-details``,
* 401 always as problem+json, 403 with ``reasonCode``/``security``, 429 with ``Retry-After``.
"""

import json
import uuid

from werkzeug.wrappers import Response

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class ApiError(Exception):
    """An error answer of the API.

    :param http_status: HTTP status code (400, 404, 410, 500…)
    :param exception_code: KSeF ``exceptionCode`` (e.g. 21405) or None
    :param description: ``exceptionDescription`` (Polish, like the real service)
    :param details: list of strings (``details``)
    :param extra: dict merged into the problem-details body (e.g. ``reasonCode``)
    :param headers: extra response headers
    """

    def __init__(self, http_status, exception_code=None, description="", details=None, extra=None, headers=None):
        super().__init__("%s %s %s" % (http_status, exception_code, description))
        self.http_status = int(http_status)
        self.exception_code = exception_code
        self.description = description or _TITLES.get(self.http_status, "Error")
        self.details = list(details or [])
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


class Unauthorized(ApiError):
    """401: missing, invalid or expired bearer token (always problem+json)."""

    def __init__(self, detail="Wymagane jest uwierzytelnienie."):
        super().__init__(401, None, detail)


class Forbidden(ApiError):
    """403 with ``reasonCode`` (missing-permissions, ip-not-allowed, …) and ``security``."""

    def __init__(self, reason_code, detail, security=None):
        super().__init__(403, None, detail, extra={"reasonCode": reason_code, "security": security or {}})


class TooManyRequests(ApiError):
    """429 with the ``Retry-After`` header (whole seconds)."""

    def __init__(self, retry_after, detail):
        retry_after = max(1, int(retry_after))
        super().__init__(429, None, detail, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


def bad_request(code, description, details=None):
    """Shortcut for the frequent 400 answer with one exception code."""
    return ApiError(400, code, description, details)


def validation_error(detail):
    """400 / 21405 (input validation) with one detail line."""
    return ApiError(400, 21405, "Błąd walidacji danych wejściowych.", [detail])


def _ts(clock):
    return clock.now().isoformat().replace("+00:00", "Z")


def _json(body, status, content_type, headers=None):
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    resp = Response(data, status=status, content_type=content_type)
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def render_error(err, path, problem_details, clock, reference=None):
    """Turn an :class:`ApiError` into a werkzeug Response in the format the client asked for."""
    trace_id = uuid.uuid4().hex
    status = err.http_status
    title = _TITLES.get(status, "Error")
    if status in (401, 403) or problem_details:
        body = {"title": title, "status": status, "instance": path, "detail": err.description}
        if status not in (401, 403, 429):
            body["errors"] = [{"code": err.exception_code, "description": err.description, "details": err.details}]
            if err.exception_code is None:
                body["errors"] = []
        body.update(err.extra)
        body["timestamp"] = _ts(clock)
        body["traceId"] = trace_id
        return _json(body, status, "application/problem+json", err.headers)
    if status == 429:
        body = {"status": {"code": 429, "description": title, "details": [err.description]}}
        return _json(body, status, "application/json", err.headers)
    body = {
        "exception": {
            "exceptionDetailList": [
                {
                    "exceptionCode": err.exception_code if err.exception_code is not None else 0,
                    "exceptionDescription": err.description,
                    "details": err.details,
                }
            ],
            "referenceNumber": reference or str(uuid.uuid4()),
            "serviceCode": "00-%s-%s-00" % (trace_id, trace_id[:16]),
            "serviceCtx": "srvKSEFSIM",
            "serviceName": "KSeF-Simulator",
            "timestamp": _ts(clock),
        }
    }
    if err.extra:
        body.update({k: v for k, v in err.extra.items() if k not in body})
    return _json(body, status, "application/json", err.headers)
