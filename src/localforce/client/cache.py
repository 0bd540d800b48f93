"""An optional token cache: one file, mode 0600, AES-GCM encrypted, under the user's config
folder, with one entry per (login URL, client id, username).

The key comes from the OS keyring (the ``keyring`` package, when installed and it has a
backend), else from a key file beside the cache, mode 0600. Nothing in the cache file is in
clear: not the tokens, not the client secret, not the usernames.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from localforce.client.tokens import Token

KEYRING_SERVICE = "localforce"
KEYRING_NAME = "token-cache-key"


def config_dir() -> Path:
    """``$LOCALFORCE_CONFIG_DIR``, else the platform's per-user config folder."""
    if os.environ.get("LOCALFORCE_CONFIG_DIR"):
        return Path(os.environ["LOCALFORCE_CONFIG_DIR"])
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "localforce"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "localforce"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "localforce"


@dataclass
class Login:
    """What it takes to use and renew a session later: where, which app, whose token."""

    login_url: str
    client_id: str
    username: str
    token: dict[str, Any]
    client_secret: str | None = None
    #: How to log in again without a refresh token: ``client_credentials`` or ``jwt`` (with
    #: ``params["key_file"]``); ``web`` and ``device`` renew only by their refresh token.
    flow: str = "web"
    params: dict[str, str] | None = None

    @property
    def key(self) -> str:
        return f"{self.login_url.rstrip('/')} {self.client_id} {self.username}"

    def session_token(self) -> Token:
        return Token.from_response(self.token, refresh_token=self.token.get("refresh_token"))


class TokenCache:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or config_dir()
        self.path = self.folder / "tokens.enc"

    # -- entries ---------------------------------------------------------------------------

    def save(self, login: Login) -> None:
        """Store ``login`` and make it the current one."""
        data = self._read()
        data["logins"][login.key] = asdict(login)
        data["current"] = login.key
        self._write(data)

    def current(self) -> Login | None:
        data = self._read()
        entry = data["logins"].get(data.get("current") or "")
        return Login(**entry) if entry else None

    def find(self, login_url: str, client_id: str, username: str) -> Login | None:
        key = f"{login_url.rstrip('/')} {client_id} {username}"
        entry = self._read()["logins"].get(key)
        return Login(**entry) if entry else None

    def delete(self, login: Login) -> None:
        data = self._read()
        data["logins"].pop(login.key, None)
        if data.get("current") == login.key:
            data["current"] = next(iter(data["logins"]), None)
        self._write(data)

    # -- the file --------------------------------------------------------------------------

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"logins": {}, "current": None}
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        sealed = json.loads(self.path.read_text())
        plain = AESGCM(self._key()).decrypt(base64.b64decode(sealed["nonce"]),
                                            base64.b64decode(sealed["data"]), b"localforce-cache")
        return json.loads(plain)  # type: ignore[no-any-return]

    def _write(self, data: dict[str, Any]) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self._key()).encrypt(nonce, json.dumps(data).encode(),
                                             b"localforce-cache")
        _write_private(self.path, json.dumps({
            "v": 1, "nonce": base64.b64encode(nonce).decode(),
            "data": base64.b64encode(sealed).decode()}).encode())

    def _key(self) -> bytes:
        from_keyring = _keyring_key()
        if from_keyring is not None:
            return from_keyring
        path = self.folder / "cache.key"
        if not path.exists():
            _write_private(path, base64.b64encode(secrets.token_bytes(32)))
        return base64.b64decode(path.read_bytes())


def _keyring_key() -> bytes | None:
    """The key kept in the OS keyring (created there on first use), or None without one."""
    if os.environ.get("LOCALFORCE_CACHE_NO_KEYRING"):
        return None
    try:
        import keyring  # type: ignore[import-not-found]
        from keyring.errors import KeyringError  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        stored = keyring.get_password(KEYRING_SERVICE, KEYRING_NAME)
        if stored is None:
            stored = base64.b64encode(secrets.token_bytes(32)).decode()
            keyring.set_password(KEYRING_SERVICE, KEYRING_NAME, stored)
        return base64.b64decode(stored)
    except KeyringError:  # no usable backend (a headless server)
        return None


def _write_private(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` created 0600 (its folder 0700), replaced atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, content)
    finally:
        os.close(fd)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
