"""The end of KSeF tokens: KSeF accepts them until 31 December 2026 (Dz.U. 2025 poz. 1815, §13).

From 1 January 2027 (Warsaw) a login with a KSeF token is refused; the client then says that tokens
have ended and what to do (get a KSeF certificate), instead of "the token is invalid".
"""

import datetime

from .calendar_pl import warsaw_now
from .errors import KsefError

#: the last day KSeF accepts tokens
TOKENS_ACCEPTED_UNTIL = datetime.date(2026, 12, 31)


def tokens_ended(now=None):
    """Whether KSeF no longer accepts tokens at ``now`` (aware; default: now)."""
    return warsaw_now(now).date() > TOKENS_ACCEPTED_UNTIL


class TokensEnded(KsefError):
    """KSeF refused a token login because tokens are no longer accepted."""

    default_code = "tokens_ended"


def tokens_ended_error():
    return TokensEnded(
        "KSeF no longer accepts KSeF tokens: they were valid until 31 December 2026 (Dz.U. 2025 poz. 1815). "
        "Get a KSeF certificate (Settings > KSeF > Get a KSeF certificate): sign the request once with a "
        "qualified signature or Profil Zaufany, and Odoo logs in with the certificate from then on.",
        "KSeF nie przyjmuje już tokenów KSeF: były ważne do 31 grudnia 2026 r. (Dz.U. 2025 poz. 1815). "
        "Uzyskaj certyfikat KSeF (Ustawienia > KSeF > Uzyskaj certyfikat KSeF): podpisz raz żądanie podpisem "
        "kwalifikowanym lub Profilem Zaufanym, a Odoo będzie odtąd logować się certyfikatem.",
        code="tokens_ended",
    )


def explain_token_refusal(exc, now=None):
    """``exc`` (a refused token login) as :class:`TokensEnded` when tokens have ended at ``now``."""
    status = (getattr(exc, "details", None) or {}).get("status")
    http_status = getattr(exc, "http_status", None)
    refused = status == 450 or http_status in (400, 401, 403)
    if refused and tokens_ended(now):
        return tokens_ended_error()
    return exc
