"""The end of KSeF tokens: accepted until 31 December 2026 (Dz.U. 2025 poz. 1815, §13), Warsaw time.

After it, a refused token login says that tokens have ended and what to do, not "invalid token"; the
simulator plays KSeF's refusal with its ``sim.auth.tokens_end`` switch.
"""

import datetime

import pytest

from ksef_core.client import KsefAuthError
from ksef_core.simulator.token_end import TOKENS_END
from ksef_core.token_end import TokensEnded, tokens_ended

UTC = datetime.timezone.utc
NIP = "5265877635"


def test_tokens_end_at_midnight_in_warsaw():
    assert not tokens_ended(datetime.datetime(2026, 12, 31, 22, 59, 59, tzinfo=UTC))  # 23:59:59 in Warsaw
    assert tokens_ended(datetime.datetime(2026, 12, 31, 23, 0, tzinfo=UTC))  # 1 January 2027, 00:00
    assert datetime.datetime(2026, 12, 31, 23, 0, tzinfo=UTC) == TOKENS_END


def test_a_token_refused_after_the_end_says_tokens_ended(simulator, make_client):
    simulator.sim.auth.tokens_end = TOKENS_END
    token = simulator.sim.mint_token(NIP, ("InvoiceWrite", "InvoiceRead"))
    simulator.sim.clock.set(datetime.datetime(2026, 12, 31, 22, 30, tzinfo=UTC))
    assert make_client(simulator, token=token).check_connection().can_send  # still 31 December in Warsaw
    simulator.sim.clock.set(datetime.datetime(2027, 1, 2, 9, 0, tzinfo=UTC))
    with pytest.raises(TokensEnded) as caught:
        make_client(simulator, token=token).check_connection()
    assert "no longer accepts KSeF tokens" in caught.value.message_en
    assert "Get a KSeF certificate" in caught.value.message_en
    assert "nie przyjmuje już tokenów" in caught.value.message_pl


def test_before_the_end_a_bad_token_stays_a_bad_token(simulator, make_client):
    simulator.sim.clock.set(datetime.datetime(2026, 12, 10, 9, 0, tzinfo=UTC))
    client = make_client(simulator, token="20251010-EC-0000000000-0000000000-00|nip-%s|%s" % (NIP, "0" * 64))
    with pytest.raises(KsefAuthError) as caught:
        client.check_connection()
    assert not isinstance(caught.value, TokensEnded)


def test_a_token_refused_at_once_after_the_end_says_tokens_ended(simulator, make_client):
    """KSeF may refuse the token in its answer to POST /auth/ksef-token, not only in the login's status."""
    token = simulator.sim.mint_token(NIP, ("InvoiceWrite", "InvoiceRead"))
    simulator.sim.clock.set(datetime.datetime(2027, 1, 2, 9, 0, tzinfo=UTC))
    simulator.sim.faults.error("/auth/ksef-token", method="POST", status=401, count=None)
    try:
        with pytest.raises(TokensEnded) as caught:
            make_client(simulator, token=token).check_connection()
    finally:
        simulator.sim.faults.clear()
    assert "Get a KSeF certificate" in caught.value.message_en
