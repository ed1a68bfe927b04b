"""Symmetric and RSA-OAEP primitives used by KSeF sessions and exports.

Written against ``cryptography`` 3.4.8 (Odoo 19's pin on Python 3.11) and newer:
no ``backend`` argument is required, none of the post-3.4 APIs are used.
"""

import os

from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

AES_KEY_BYTES = 32
AES_IV_BYTES = 16
AES_BLOCK_BYTES = 16


def new_symmetric_key():
    """A fresh AES-256 key and IV as ``(key, iv)``."""
    return os.urandom(AES_KEY_BYTES), os.urandom(AES_IV_BYTES)


def encrypted_size(plain_size):
    """Size of AES-CBC/PKCS#7 ciphertext for ``plain_size`` bytes (IV not prefixed)."""
    return (plain_size // AES_BLOCK_BYTES + 1) * AES_BLOCK_BYTES


def _cipher(key, iv):
    return Cipher(algorithms.AES(key), modes.CBC(iv), backend=default_backend())


def aes_encrypt(key, iv, data):
    """AES-256-CBC with PKCS#7 padding; returns the bare ciphertext."""
    padder = padding.PKCS7(128).padder()
    enc = _cipher(key, iv).encryptor()
    return enc.update(padder.update(data) + padder.finalize()) + enc.finalize()


def aes_decrypt(key, iv, data):
    """Inverse of :func:`aes_encrypt`; raises ``ValueError`` on bad padding or length."""
    if len(data) % AES_BLOCK_BYTES:
        raise ValueError("ciphertext length is not a multiple of the AES block size")
    dec = _cipher(key, iv).decryptor()
    plain = dec.update(data) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(plain) + unpadder.finalize()


class AesCbcStreamEncryptor:
    """Incremental AES-256-CBC/PKCS#7 encryption for data that does not fit in memory."""

    def __init__(self, key, iv):
        self._padder = padding.PKCS7(128).padder()
        self._enc = _cipher(key, iv).encryptor()

    def update(self, chunk):
        return self._enc.update(self._padder.update(chunk))

    def finalize(self):
        return self._enc.update(self._padder.finalize()) + self._enc.finalize()


class AesCbcStreamDecryptor:
    """Incremental inverse of :class:`AesCbcStreamEncryptor`."""

    def __init__(self, key, iv):
        self._unpadder = padding.PKCS7(128).unpadder()
        self._dec = _cipher(key, iv).decryptor()

    def update(self, chunk):
        return self._unpadder.update(self._dec.update(chunk))

    def finalize(self):
        return self._unpadder.update(self._dec.finalize()) + self._unpadder.finalize()


def _oaep():
    return asym_padding.OAEP(
        mgf=asym_padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
    )


def rsa_oaep_encrypt(public_key, data):
    """RSAES-OAEP with SHA-256 and MGF1-SHA-256, empty label (KSeF token and key wrapping)."""
    return public_key.encrypt(data, _oaep())


def rsa_oaep_decrypt(private_key, data):
    return private_key.decrypt(data, _oaep())
