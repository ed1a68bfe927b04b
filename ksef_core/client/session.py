"""Holds the authenticated state of one context and keeps it fresh.

:class:`TokenManager` hands out a valid access token: it refreshes the access
token ``refresh_margin`` seconds before it expires, signs in again when the
refresh token is gone or refused, and calls ``on_change(state)`` whenever the
state changes so the caller can persist it (the Odoo layer stores it per company
and several workers share it through ``from_dict``).
"""

import datetime
import logging
import threading

from .errors import KsefApiError, KsefAuthError
from .tokens import TokenState

_logger = logging.getLogger(__name__)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


class TokenManager:
    def __init__(self, authenticator, credential, clock=utc_now, state=None, on_change=None, refresh_margin=120):
        self._auth = authenticator
        self._credential = credential
        self._clock = clock
        self._lock = threading.RLock()
        self.on_change = on_change
        self.refresh_margin = refresh_margin
        self.state = state if isinstance(state, TokenState) or state is None else TokenState.from_dict(state)
        if self.state is not None and credential is not None:
            expected = "%s:%s" % credential.context
            if self.state.context and self.state.context != expected:
                _logger.info("Stored KSeF tokens belong to another context; they are ignored")
                self.state = None

    def _set(self, state):
        self.state = state
        if self.on_change:
            self.on_change(state)

    def access_token(self):
        """A valid access token, refreshing or signing in when needed."""
        with self._lock:
            now = self._clock()
            if self.state and self.state.access_valid(now, self.refresh_margin):
                return self.state.access_token
            if self.state and self.state.refresh_valid(now, 5):
                try:
                    self._set(self._auth.refresh(self.state))
                    _logger.info("KSeF access token refreshed")
                    return self.state.access_token
                except KsefApiError as exc:
                    if exc.http_status is None or exc.http_status >= 500 or exc.http_status == 429:
                        raise
                    _logger.info("KSeF refused the refresh token (HTTP %s); signing in again", exc.http_status)
            return self.login()

    def login(self):
        """Full authentication; returns the new access token."""
        with self._lock:
            if self._credential is None:
                raise KsefAuthError(
                    "No KSeF credential is configured: enter a KSeF token or a certificate in the settings.",
                    "Nie skonfigurowano poświadczeń KSeF: wpisz token KSeF lub certyfikat w ustawieniach.",
                    code="credential_missing",
                )
            self._set(self._auth.authenticate(self._credential))
            _logger.info("Signed in to KSeF (%s)", self._credential.method)
            return self.state.access_token

    def invalidate_access(self, token):
        """Forget ``token`` after KSeF refused it (401); the next call refreshes."""
        with self._lock:
            if self.state and self.state.access_token == token:
                new = TokenState.from_dict(self.state.to_dict())
                new.access_valid_until = None
                new.access_token = None
                self._set(new)
