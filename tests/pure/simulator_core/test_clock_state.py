"""The controllable clock and the state store (no HTTP)."""

import datetime as dt

from ksef_core.simulator.clock import SimClock
from ksef_core.simulator.state import SimState


def test_clock_set_advance_freeze():
    clock = SimClock(start="2026-02-01T08:00:00Z", frozen=True)
    assert clock.now() == dt.datetime(2026, 2, 1, 8, tzinfo=dt.timezone.utc)
    clock.advance(90)
    assert clock.now() == dt.datetime(2026, 2, 1, 8, 1, 30, tzinfo=dt.timezone.utc)
    assert clock.now_ms() == int(clock.now().timestamp() * 1000)
    clock.unfreeze()
    assert not clock.frozen
    assert (
        dt.timedelta(0)
        <= clock.now() - dt.datetime(2026, 2, 1, 8, 1, 30, tzinfo=dt.timezone.utc)
        < dt.timedelta(seconds=5)
    )
    clock.set(dt.datetime(2030, 1, 1))  # naive = UTC
    assert clock.now().year == 2030


def test_state_buckets_and_blobs_persist(tmp_path):
    state = SimState(str(tmp_path))
    state.bucket("sessions")["S1"] = {"when": dt.datetime(2026, 1, 1), "items": [1, 2]}
    state.put_blob("invoice", "1234567890-20260101-ABCDEF123456-AB", b"<xml/>")
    state.put_blob("weird", "../../etc/passwd", b"x")
    state.flush()
    again = SimState(str(tmp_path))
    assert again.bucket("sessions")["S1"]["items"] == [1, 2]
    assert again.get_blob("invoice", "1234567890-20260101-ABCDEF123456-AB") == b"<xml/>"
    assert again.get_blob("weird", "../../etc/passwd") == b"x"
    assert not (tmp_path.parent / "etc").exists()
    assert again.get_blob("invoice", "missing") is None
    again.delete_blob("invoice", "1234567890-20260101-ABCDEF123456-AB")
    assert again.get_blob("invoice", "1234567890-20260101-ABCDEF123456-AB") is None


def test_memory_state_blobs():
    state = SimState()
    state.put_blob("k", "a", b"1")
    assert state.get_blob("k", "a") == b"1"
    state.flush()  # no-op without a directory
