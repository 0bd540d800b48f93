"""Encryption at rest for values that must stay recoverable (consumer secrets, security tokens).

AES-256-GCM under a master key. The master key comes from ``LOCALFORCE_SECRET_KEY`` (base64url
of 32 bytes) or from a key file created with mode 0600 on first use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"v1"


class SecretBoxError(ValueError):
    pass


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise SecretBoxError("the master key must be 32 bytes")
        self._aead = AESGCM(key)
        self._key = key

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for ``purpose`` (HMAC-SHA256 of it under the master key): the same
        on every replica, unrelated to the sealing key and to other purposes' keys."""
        return hmac.new(self._key, b"localforce-derive:" + purpose.encode(),
                        hashlib.sha256).digest()

    def seal(self, plaintext: str, context: str = "") -> str:
        """Encrypt; ``context`` (e.g. the row's id) is bound as associated data."""
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return (_VERSION + b":" + base64.urlsafe_b64encode(nonce + sealed)).decode()

    def open(self, token: str, context: str = "") -> str:
        version, _, body = token.encode().partition(b":")
        if version != _VERSION:
            raise SecretBoxError("unknown ciphertext version")
        raw = base64.urlsafe_b64decode(body)
        try:
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except Exception as exc:  # InvalidTag: wrong key or tampered row
            raise SecretBoxError("cannot decrypt: wrong master key or tampered value") from exc


def decode_key(text: str) -> bytes:
    padded = text.strip() + "=" * (-len(text.strip()) % 4)
    try:
        key = base64.urlsafe_b64decode(padded)
    except Exception as exc:
        raise SecretBoxError("LOCALFORCE_SECRET_KEY must be base64url of 32 bytes") from exc
    if len(key) != 32:
        raise SecretBoxError("LOCALFORCE_SECRET_KEY must be base64url of 32 bytes")
    return key


def generate_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def load_or_create_key_file(path: Path) -> bytes:
    """Read the key file, creating it (mode 0600, parent 0700) if absent."""
    if path.exists():
        return decode_key(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(generate_key() + "\n")
    return decode_key(path.read_text())
