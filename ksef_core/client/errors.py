"""Exceptions raised by the KSeF API client.

Every class derives from :class:`ksef_core.errors.KsefError`, so a caller can
catch one base class and still read ``code``, ``message_pl`` and
``message_en``.  Messages never contain tokens, keys or invoice contents.
"""

from ..errors import KsefError


class KsefApiError(KsefError):
    """KSeF answered with an error (HTTP 4xx/5xx or a failed status code).

    :ivar http_status: HTTP status of the answer (``None`` for a failed async status)
    :ivar exception_codes: list of KSeF exception codes (e.g. ``[21405]``)
    :ivar descriptions: KSeF's own descriptions (not secret, may be shown in logs)
    """

    default_code = "api_error"

    def __init__(
        self,
        message_en,
        message_pl=None,
        code=None,
        details=None,
        http_status=None,
        exception_codes=None,
        descriptions=None,
    ):
        details = dict(details or {})
        details.setdefault("http_status", http_status)
        details.setdefault("exception_codes", list(exception_codes or ()))
        super().__init__(message_en, message_pl, code=code, details=details)
        self.http_status = http_status
        self.exception_codes = list(exception_codes or ())
        self.descriptions = list(descriptions or ())


class KsefAuthError(KsefApiError):
    """Authentication failed or the session is no longer accepted (401, auth status 4xx)."""

    default_code = "auth_failed"


class KsefPermissionError(KsefApiError):
    """The authenticated subject lacks a permission (403 ``missing-permissions``).

    :ivar missing: permission names KSeF or the client found missing
    """

    default_code = "permission_missing"

    def __init__(self, message_en, message_pl=None, missing=(), **kwargs):
        details = dict(kwargs.pop("details", None) or {})
        details["missing"] = list(missing)
        super().__init__(message_en, message_pl, details=details, **kwargs)
        self.missing = list(missing)


class KsefRateLimited(KsefApiError):
    """HTTP 429 and the client was not allowed to wait that long.

    :ivar retry_after: seconds KSeF asked to wait (``Retry-After``)
    """

    default_code = "rate_limited"

    def __init__(self, message_en, message_pl=None, retry_after=None, **kwargs):
        details = dict(kwargs.pop("details", None) or {})
        details["retry_after"] = retry_after
        kwargs.setdefault("http_status", 429)
        super().__init__(message_en, message_pl, details=details, **kwargs)
        self.retry_after = retry_after


class KsefUnavailable(KsefApiError):
    """KSeF could not be reached or kept answering 5xx after the allowed retries."""

    default_code = "unavailable"


class KsefUnknownOutcome(KsefApiError):
    """A non-idempotent call (e.g. a send) may or may not have reached KSeF.

    Raised only when the client could not find out by itself; the caller must
    not resend blindly but check the session's invoices first.
    """

    default_code = "unknown_outcome"


class KsefProcessingError(KsefApiError):
    """An asynchronous operation (auth, session, export) ended with a failure status.

    :ivar status_code: the KSeF processing status code (e.g. 415, 450)
    :ivar state: machine-readable state from :mod:`.status_codes`
    """

    default_code = "processing_failed"

    def __init__(self, message_en, message_pl=None, status_code=None, state=None, **kwargs):
        details = dict(kwargs.pop("details", None) or {})
        details["status_code"] = status_code
        details["state"] = state
        super().__init__(message_en, message_pl, details=details, **kwargs)
        self.status_code = status_code
        self.state = state


class KsefTimeout(KsefApiError):
    """An asynchronous operation did not finish within the allowed polling time."""

    default_code = "poll_timeout"


class KsefIntegrityError(KsefApiError):
    """Downloaded data does not match the hash or size KSeF announced."""

    default_code = "integrity_error"
