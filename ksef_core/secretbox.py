"""Encryption at rest for credentials (tokens, private keys, passwords).

A thin versioned wrapper around Fernet (AES-128-CBC + HMAC-SHA256) from
``cryptography``.  The key is never stored next to the ciphertext: the Odoo
layer takes it from the server configuration or from a key file outside the
database (see README, "Secrets").
"""

import base64
import hashlib
import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .errors import CredentialError

PREFIX = "ksef1:"


def generate_key():
    """A new random key, as URL-safe Base64 text (44 characters)."""
    return Fernet.generate_key().decode("ascii")


def _fernet(key):
    if isinstance(key, str):
        key = key.encode("ascii")
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        raise CredentialError(
            "The KSeF encryption key is malformed: it must be 32 bytes in URL-safe Base64 "
            '(generate one with: python3 -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())").',
            "Klucz szyfrowania KSeF ma błędny format: musi to być 32 bajty w Base64 URL-safe "
            '(wygeneruj go poleceniem: python3 -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())").',
            code="secret_key_malformed",
        ) from None


def parse_keys(text):
    """The keys of a key setting: one key, or several separated by commas, spaces or new lines
    (the first encrypts; all decrypt, so that a new key can be put in front of the old one)."""
    keys = [part for part in re.split(r"[\s,;]+", (text or "").strip()) if part]
    for key in keys:
        _fernet(key)  # each must be a valid key
    return keys


def fingerprint(key):
    """A short one-way fingerprint of ``key`` (16 hex digits): safe to store next to the data."""
    if isinstance(key, str):
        key = key.encode("ascii")
    return hashlib.sha256(b"l10n_pl_ksef key fingerprint:" + key).hexdigest()[:16]


def _box(key_or_keys):
    """A Fernet for one key; a MultiFernet (first key encrypts, all decrypt) for a list."""
    if isinstance(key_or_keys, (list, tuple)):
        if not key_or_keys:
            return _fernet("")
        return MultiFernet([_fernet(key) for key in key_or_keys])
    return _fernet(key_or_keys)


def encrypt(key, secret):
    """Encrypt ``secret`` (``str`` or ``bytes``) with ``key`` (or the first of a list); returns text."""
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    return PREFIX + _box(key).encrypt(secret).decode("ascii")


def rotate(keys, token):
    """``token`` encrypted again with the first of ``keys`` (it may have been made with any of them)."""
    decrypt(keys, token, as_text=False)  # the clear error when no key fits
    return PREFIX + _box(list(keys)).rotate(token[len(PREFIX) :].encode("ascii")).decode("ascii")


def decrypt(key, token, as_text=True):
    """Decrypt what :func:`encrypt` produced.

    :raises CredentialError: the key is not the one the secret was encrypted with.
    """
    if not token or not token.startswith(PREFIX):
        raise CredentialError(
            "The stored KSeF secret is not in the expected encrypted format; enter it again.",
            "Zapisany sekret KSeF nie jest w oczekiwanym formacie zaszyfrowanym; wprowadź go ponownie.",
            code="secret_format",
        )
    try:
        plain = _box(key).decrypt(token[len(PREFIX) :].encode("ascii"))
    except (InvalidToken, ValueError, TypeError, base64.binascii.Error):
        raise CredentialError(
            "The stored KSeF credentials cannot be decrypted: the server's encryption key has changed "
            "(e.g. the database was moved to another server). Restore the original key in the server "
            "configuration or enter the credentials again.",
            "Nie można odszyfrować zapisanych danych uwierzytelniających KSeF: zmienił się klucz "
            "szyfrowania serwera (np. bazę przeniesiono na inny serwer). Przywróć pierwotny klucz w "
            "konfiguracji serwera albo wprowadź dane ponownie.",
            code="secret_key_changed",
        ) from None
    return plain.decode("utf-8") if as_text else plain
