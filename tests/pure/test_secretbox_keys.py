"""Key handling of the encryption at rest: several keys (rotation), fingerprints."""

import pytest

from ksef_core import secretbox
from ksef_core.errors import CredentialError

OLD = secretbox.generate_key()
NEW = secretbox.generate_key()


def test_a_secret_of_the_old_key_is_read_after_a_new_key_is_put_in_front():
    stored = secretbox.encrypt(OLD, "token-123")
    assert secretbox.decrypt([NEW, OLD], stored) == "token-123"
    with pytest.raises(CredentialError) as info:
        secretbox.decrypt([NEW], stored)
    assert info.value.code == "secret_key_changed"


def test_rotation_encrypts_again_with_the_first_key():
    stored = secretbox.encrypt(OLD, "token-123")
    rotated = secretbox.rotate([NEW, OLD], stored)
    assert rotated != stored
    assert secretbox.decrypt(NEW, rotated) == "token-123", "the old key is no longer needed"
    with pytest.raises(CredentialError):
        secretbox.rotate([secretbox.generate_key()], stored)


def test_new_secrets_use_the_first_key():
    stored = secretbox.encrypt([NEW, OLD], "x")
    assert secretbox.decrypt(NEW, stored) == "x"
    with pytest.raises(CredentialError):
        secretbox.decrypt(OLD, stored)


def test_key_settings_and_fingerprints():
    assert secretbox.parse_keys(" %s,\n%s " % (NEW, OLD)) == [NEW, OLD]
    with pytest.raises(CredentialError) as info:
        secretbox.parse_keys("%s, not-a-key" % NEW)
    assert info.value.code == "secret_key_malformed"
    assert secretbox.fingerprint(NEW) != secretbox.fingerprint(OLD)
    assert len(secretbox.fingerprint(NEW)) == 16
    assert NEW not in secretbox.fingerprint(NEW)
