"""Direct SQL on the benchmark database: refresh tokens to spend, and the growth data.

The server is running while this writes (SQLite in WAL mode, or PostgreSQL); rows follow the
server's own template rows (see bulk.py), and tokens are stored the way the server stores
them: only the SHA-256 digest of a random value.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, select, text

from . import bulk
from .scenarios import NotAvailable


def _digest(value: str) -> str:
    from localforce.security.tokens import digest

    return digest(value)


class BenchStore:
    def __init__(self, engine: Engine, log: Callable[[str], None] = print) -> None:
        self.engine, self.log = engine, log

    def _token_template(self, access_token: str) -> tuple[Any, dict[str, Any]]:
        try:
            return bulk.template_by(self.engine, "tokens", "digest", _digest(access_token))
        except bulk.NoTemplate as exc:
            raise NotAvailable(f"issued access token not found in the store: {exc}") from exc

    def _app_id(self, consumer_key: str) -> str:
        apps = bulk.reflect(self.engine, "apps")
        assert apps is not None
        with self.engine.connect() as connection:
            found = connection.execute(
                select(apps.c.id).where(apps.c.consumer_key == consumer_key)).scalar()
        if found is None:
            raise NotAvailable(f"no app with consumer key {consumer_key}")
        return str(found)

    def org_id(self) -> str:
        """The bench org's Id (the only org of the database)."""
        with self.engine.connect() as c:
            return str(c.execute(text("SELECT id FROM orgs")).scalar_one())

    def refresh_tokens(self, app: Any, n: int, access_token: str) -> list[str]:
        """``n`` live refresh tokens of ``app`` for the bench user, each its own family, as the
        web-server flow would have left them (only their digests are stored)."""
        table, template = self._token_template(access_token)
        app_id, now = self._app_id(app.key), int(time.time())
        values = [secrets.token_urlsafe(48) for _ in range(n)]
        overrides = {"kind": "refresh", "app_id": app_id, "scopes": "api refresh_token",
                     "flow": "authorization_code", "issued_at": now, "last_used_at": now,
                     "expires_at": None, "parent_digest": None, "idle_timeout": None,
                     "revoked_at": None, "rotated_at": None}
        overrides = {k: v for k, v in overrides.items() if k in table.c}
        rows = [template | overrides | {"digest": _digest(v), "family_id": secrets.token_hex(16)}
                for v in values]
        with self.engine.begin() as connection:
            connection.execute(table.insert(), rows)
        return values

    def live_tokens(self, access_token: str) -> int:
        table, _ = self._token_template(access_token)
        return bulk.count(self.engine, table)

    def add_live_tokens(self, access_token: str, total: int) -> float:
        """Clone the issued access token until the store holds ``total`` token rows."""
        table, template = self._token_template(access_token)
        missing = total - bulk.count(self.engine, table)
        if missing <= 0:
            return 0.0
        self.log(f"  writing {missing:,} live tokens")
        return bulk.clone(self.engine, table, template, missing,
                          bulk.token_vary(int(time.time())), progress=self.log)

    def add_accounts(self, template_id: str, total: int) -> float:
        """Clone the Account ``template_id`` until its table holds ``total`` rows named
        ``Bench Account 0000000`` … (the seeded Accounts count towards the total)."""
        try:
            table, template = bulk.find_record(self.engine, template_id)
        except bulk.NoTemplate as exc:
            raise NotAvailable(str(exc)) from exc
        id_col = next(c.name for c in table.c if c.name.lower() == "id")
        name_col = next((c.name for c in table.c if c.name.lower() == "name"), None)
        if name_col is None:
            raise NotAvailable(f"table {table.name} has no Name column")
        missing = total - bulk.count(self.engine, table)
        if missing <= 0:
            return 0.0
        self.log(f"  writing {missing:,} Accounts into {table.name}")
        return bulk.clone(self.engine, table, template, missing,
                          bulk.account_vary(id_col, str(template[id_col]), name_col),
                          progress=self.log)
