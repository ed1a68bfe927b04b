"""Authentication flows: KSeF token and XAdES-signed certificate.

Both end with :class:`~.tokens.TokenState` (access + refresh token with expiry).
Inputs are checked before any request: token shape and NIP, certificate
validity, key/certificate match.
"""

import datetime
import logging

from ..crypto import rsa_oaep_encrypt
from ..errors import InputError
from ..hashing import b64
from ..token_end import explain_token_refusal
from . import status_codes
from .errors import KsefApiError, KsefAuthError
from .keys import TOKEN_ENCRYPTION
from .polling import PollPolicy, poll
from .tokens import TokenState, check_ksef_token

_logger = logging.getLogger(__name__)

CONTEXT_TYPES = ("Nip", "InternalId", "NipVatUe", "PeppolId")


def token_plaintext(ksef_token, timestamp_ms):
    """What is RSA-OAEP-encrypted for ``/auth/ksef-token``: ``"<token>|<challenge timestampMs>"`` (UTF-8)."""
    return ("%s|%d" % (ksef_token, int(timestamp_ms))).encode("utf-8")


class TokenCredential:
    """A KSeF token (secret) for one context.  ``repr`` never shows the secret."""

    method = "token"

    def __init__(self, token, context_nip):
        self.info = check_ksef_token(token, context_nip)
        self._token = token.strip()

    @property
    def context(self):
        return self.info.context_type, self.info.context_value

    def secret(self):
        return self._token

    def __repr__(self):
        return "TokenCredential(%r)" % (self.info,)


class CertificateCredential:
    """A certificate + private key (``ksef_core.credentials.Credential``) for a context."""

    method = "certificate"

    def __init__(self, credential, context_type, context_value, check_now=None, verify_chain=None):
        from ..credentials import check_for_authentication

        if context_type not in CONTEXT_TYPES:
            raise InputError(
                "Unknown KSeF context type %r; use one of %s." % (context_type, ", ".join(CONTEXT_TYPES)),
                "Nieznany typ kontekstu KSeF %r; użyj jednego z: %s." % (context_type, ", ".join(CONTEXT_TYPES)),
                code="context_type_invalid",
            )
        self.certificate_info = check_for_authentication(credential, now=check_now)
        self._check = check_for_authentication
        self.credential = credential
        self.context = (context_type, context_value)
        self.verify_chain = verify_chain

    def check(self, now=None):
        """Re-check validity before a login (a long-running process may outlive the certificate)."""
        self.certificate_info = self._check(self.credential, now=now)

    def __repr__(self):
        return "CertificateCredential(%s, %s)" % (self.certificate_info.serial_hex, self.context)


class Authenticator:
    """Runs challenge → (token | XAdES) → poll → redeem, and refresh."""

    def __init__(self, transport, keys, poll_policy=None, clock=None):
        self._transport = transport
        self._keys = keys
        self.clock = clock
        self.poll_policy = poll_policy or PollPolicy(initial=0.3, max_delay=3.0, timeout=180.0)

    def authenticate(self, credential):
        """Full login with a :class:`TokenCredential` or :class:`CertificateCredential`."""
        if credential.method == "token":
            try:
                init = self._keys.with_key(TOKEN_ENCRYPTION, lambda key: self._init_token(credential, key))
            except KsefApiError as exc:  # refused at once (not in the operation's status)
                explained = explain_token_refusal(exc, self.clock() if self.clock else None)
                if explained is exc:
                    raise
                raise explained from None
        else:
            credential.check(self.clock() if self.clock else None)
            init = self._init_xades(credential)
        auth_token = (init.get("authenticationToken") or {}).get("token")
        reference = init.get("referenceNumber")
        try:
            self._wait(reference, auth_token)
        except KsefAuthError as exc:
            if credential.method != "token":
                raise
            raise explain_token_refusal(exc, self.clock() if self.clock else None) from None
        tokens = self._transport.request("POST", "/auth/token/redeem", bearer=auth_token, idempotent=False)
        ctx_type, ctx_value = credential.context
        return TokenState(
            access_token=tokens["accessToken"]["token"],
            access_valid_until=tokens["accessToken"].get("validUntil"),
            refresh_token=tokens["refreshToken"]["token"],
            refresh_valid_until=tokens["refreshToken"].get("validUntil"),
            context="%s:%s" % (ctx_type, ctx_value),
            method=credential.method,
        )

    def _challenge(self):
        return self._transport.request("POST", "/auth/challenge", idempotent=True)

    def _init_token(self, credential, key):
        challenge = self._challenge()
        plain = token_plaintext(credential.secret(), challenge["timestampMs"])
        ctx_type, ctx_value = credential.context
        body = {
            "challenge": challenge["challenge"],
            "contextIdentifier": {"type": ctx_type, "value": ctx_value},
            "encryptedToken": b64(rsa_oaep_encrypt(key.key, plain)),
        }
        if key.public_key_id:
            body["publicKeyId"] = key.public_key_id
        # Repeating a login start is harmless: an unused operation simply expires.
        return self._transport.request("POST", "/auth/ksef-token", json_body=body, idempotent=True)

    def _init_xades(self, credential):
        from ..xades import build_auth_token_request, sign_enveloped

        challenge = self._challenge()
        ctx_type, ctx_value = credential.context
        xml = build_auth_token_request(challenge["challenge"], ctx_type, ctx_value)
        signing_time = None
        if self.clock is not None:
            signing_time = self.clock() - datetime.timedelta(minutes=1)
        # validity was checked just before with the client's clock
        signed = sign_enveloped(xml, credential.credential, signing_time=signing_time, check=False)
        params = None
        if credential.verify_chain is not None:
            params = {"verifyCertificateChain": "true" if credential.verify_chain else "false"}
        return self._transport.request(
            "POST",
            "/auth/xades-signature",
            data=signed,
            headers={"Content-Type": "application/xml"},
            params=params,
            idempotent=True,
        )

    # -- a request signed outside (qualified signature, Profil Zaufany) ------------------------------
    def prepare_signed_login(self, context_type, context_value, subject_identifier_type="certificateSubject"):
        """A fresh challenge and the unsigned ``AuthTokenRequest`` for the user to sign outside Odoo.

        Returns ``{"xml": bytes, "challenge", "context_type", "context_value", "issued_at", "valid_until"}``
        (aware datetimes; KSeF accepts the signed document until ``valid_until``, 10 minutes)."""
        from .signed_login import prepare

        return prepare(self, context_type, context_value, subject_identifier_type)

    def login_with_signed_request(self, signed_xml, prepared=None, verify_chain=None):
        """Sign in with an ``AuthTokenRequest`` the user signed (XAdES, enveloped) → :class:`TokenState`.

        :param prepared: what :meth:`prepare_signed_login` returned: the document must be that one (same
            challenge and context) and still valid; checked before anything is sent.
        :raises KsefAuthError: with ``code`` ``signed_request_*`` (not signed, not XAdES, another document,
            challenge expired), ``auth_no_permissions`` (the signer has no permission in the context),
            ``auth_bad_certificate`` (revoked, expired or Offline certificate)...
        """
        from .signed_login import login

        return login(self, signed_xml, prepared, verify_chain)

    def _wait(self, reference, auth_token):
        def fetch():
            return self._transport.request("GET", "/auth/%s" % reference, bearer=auth_token)

        def done(result):
            return status_codes.describe_status("auth", result.get("status")).final

        result = poll(fetch, done, self.poll_policy, self._transport.sleep, "authentication", "uwierzytelnianie")
        info = status_codes.describe_status("auth", result.get("status"))
        if not info.ok:
            raise KsefAuthError(
                info.message_en, info.message_pl, code="auth_" + info.state, details={"status": info.code}
            )
        return result

    def refresh(self, state):
        """New access token from the refresh token; returns an updated copy of ``state``."""
        data = self._transport.request("POST", "/auth/token/refresh", bearer=state.refresh_token, idempotent=True)
        new = TokenState.from_dict(state.to_dict())
        new.access_token = data["accessToken"]["token"]
        new.access_valid_until = TokenState(access_valid_until=data["accessToken"].get("validUntil")).access_valid_until
        return new


#: the name the Odoo side may use for the authentication client
AuthClient = Authenticator
