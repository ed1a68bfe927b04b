"""The incremental-sync state: serialisable, edge de-duplication."""

import json

from ksef_core.client import SyncState


def test_roundtrip_and_advance_prunes_only_older_numbers():
    state = SyncState("Subject2", "2026-01-01T00:00:00+01:00")
    assert state.date_from == "2025-12-31T23:00:00Z"
    state.seen = {"A": "2026-01-01T10:00:00Z", "B": "2026-01-02T10:00:00Z"}
    copy = SyncState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert copy.to_dict() == state.to_dict()
    copy.advance("2026-01-02T10:00:00Z")
    assert copy.date_from == "2026-01-02T10:00:00Z" and copy.seen == {"B": "2026-01-02T10:00:00Z"}
