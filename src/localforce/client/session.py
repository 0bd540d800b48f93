"""``Session`` (threads) and ``AsyncSession`` (asyncio): drivers of ``core.Core``'s flows.

The token refresh is single-flight: every caller refused with the same token waits on one lock;
the first refreshes, the others find a newer token and retry with it. Each request is retried
once at most, so a token the org keeps refusing ends in ``InvalidSession``, never in a loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx

from localforce.client.core import (
    DEFAULT_VERSION,
    Core,
    Flow,
    NeedToken,
    fetch_token,
    revoke_token,
)
from localforce.client.providers import TokenProvider
from localforce.client.tokens import Token


def run_sync(http: httpx.Client, flow: Flow) -> Any:
    """Drive a flow that only sends requests (no session token), synchronously."""
    try:
        step = next(flow)
        while True:
            assert isinstance(step, httpx.Request)
            step = flow.send(http.send(step))
    except StopIteration as done:
        return done.value


class _Base:
    def __init__(self, provider: TokenProvider, token: Token | None,
                 version: str, on_token: Callable[[Token], None] | None) -> None:
        self.core = Core(provider, version)
        self._token = token
        #: Called with each new token (to persist it, e.g. ``cache.TokenCache``).
        self.on_token = on_token
        #: How many tokens this session obtained (the first one included).
        self.token_fetches = 0

    @property
    def token(self) -> Token | None:
        return self._token

    @property
    def instance_url(self) -> str | None:
        return self._token.instance_url if self._token else None

    @property
    def limit_info(self) -> dict[str, tuple[int, int]]:
        """The last ``Sforce-Limit-Info``, parsed: ``{"api-usage": (used, max)}``."""
        return self.core.limit_info

    def _obtained(self, token: Token) -> Token:
        self._token = token
        self.token_fetches += 1
        if self.on_token is not None:
            self.on_token(token)
        return token

    def _needs_fetch(self, stale: Token | None) -> bool:
        current = self._token
        return current is None or (stale is not None and
                                   current.access_token == stale.access_token)


class Session(_Base):
    """A synchronous session, safe to share between threads.

    ``verify`` / ``timeout`` go to httpx; pass ``http=`` to bring your own ``httpx.Client``.
    """

    def __init__(self, provider: TokenProvider, *, token: Token | None = None,
                 version: str = DEFAULT_VERSION, http: httpx.Client | None = None,
                 verify: Any = True, timeout: float = 60.0,
                 on_token: Callable[[Token], None] | None = None) -> None:
        super().__init__(provider, token, version, on_token)
        self.http = http or httpx.Client(verify=verify, timeout=timeout)
        self._lock = threading.Lock()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _run(self, flow: Flow) -> Any:
        try:
            step = next(flow)
            while True:
                if isinstance(step, NeedToken):
                    step = flow.send(self._current(step.stale))
                else:
                    step = flow.send(self.http.send(step))
        except StopIteration as done:
            return done.value

    def _current(self, stale: Token | None) -> Token:
        if not self._needs_fetch(stale):
            assert self._token is not None
            return self._token
        with self._lock:  # single flight: the first caller refreshes, the rest reuse it
            if self._needs_fetch(stale):
                self._obtained(self._run(fetch_token(self.core.provider, self._token)))
            assert self._token is not None
            return self._token

    def login(self) -> Token:
        """Get a token now (otherwise the first call does)."""
        return self._current(None)

    def revoke(self) -> None:
        """Revoke the session's token (its refresh token when it has one) and forget it."""
        if self._token is not None:
            self._run(revoke_token(self.core.provider, self._token))
            self._token = None

    def identity(self) -> dict[str, Any]:
        """Who the session is: the identity URL's answer."""
        return self._run(self.core.identity())  # type: ignore[no-any-return]

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """Any REST call: ``path`` relative to ``/services/data/vXX.X/``, absolute from the
        instance root (``/services/apexrest/...``), or a full URL."""
        return self._run(self.core.call(method, path, **kw))  # type: ignore[no-any-return]

    def query(self, soql: str, *, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        """Every record, page after page (``nextRecordsUrl``), fetched as you iterate."""
        page = self._run(self.core.query_page(soql, None, include_deleted))
        while True:
            yield from page["records"]
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            page = self._run(self.core.query_page(None, page["nextRecordsUrl"], False))

    def query_all(self, soql: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        return list(self.query(soql, include_deleted=include_deleted))

    def get(self, sobject: str, record_id: str, fields: list[str] | None = None
            ) -> dict[str, Any]:
        return self._run(self.core.get(sobject, record_id, fields))  # type: ignore[no-any-return]

    def create(self, sobject: str, values: dict[str, Any]) -> str:
        return self._run(self.core.create(sobject, values))  # type: ignore[no-any-return]

    def update(self, sobject: str, record_id: str, values: dict[str, Any]) -> None:
        self._run(self.core.update(sobject, record_id, values))

    def upsert(self, sobject: str, field: str, value: str, values: dict[str, Any]
               ) -> dict[str, Any]:
        return self._run(self.core.upsert(sobject, field, value, values))  # type: ignore[no-any-return]

    def delete(self, sobject: str, record_id: str) -> None:
        self._run(self.core.delete(sobject, record_id))

    def describe(self, sobject: str | None = None) -> dict[str, Any]:
        return self._run(self.core.describe(sobject))  # type: ignore[no-any-return]

    def limits(self) -> dict[str, Any]:
        return self._run(self.core.json_call("GET", "limits"))  # type: ignore[no-any-return]

    def composite(self, subrequests: list[dict[str, Any]], all_or_none: bool = False
                  ) -> list[dict[str, Any]]:
        return self._run(self.core.composite(subrequests, all_or_none))  # type: ignore[no-any-return]

    def create_many(self, records: list[dict[str, Any]], all_or_none: bool = False
                    ) -> list[dict[str, Any]]:
        """sObject Collections create; each record carries ``attributes.type``."""
        return self._run(self.core.collections("POST", records, all_or_none=all_or_none))  # type: ignore[no-any-return]

    def update_many(self, records: list[dict[str, Any]], all_or_none: bool = False
                    ) -> list[dict[str, Any]]:
        return self._run(self.core.collections("PATCH", records, all_or_none=all_or_none))  # type: ignore[no-any-return]

    def delete_many(self, ids: list[str], all_or_none: bool = False) -> list[dict[str, Any]]:
        return self._run(self.core.collections("DELETE", ids=ids, all_or_none=all_or_none))  # type: ignore[no-any-return]


class AsyncSession(_Base):
    """The asyncio twin of ``Session``: the same methods, awaited; ``query`` is an async
    iterator. Safe for many concurrent tasks on one event loop."""

    def __init__(self, provider: TokenProvider, *, token: Token | None = None,
                 version: str = DEFAULT_VERSION, http: httpx.AsyncClient | None = None,
                 verify: Any = True, timeout: float = 60.0,
                 on_token: Callable[[Token], None] | None = None) -> None:
        super().__init__(provider, token, version, on_token)
        self.http = http or httpx.AsyncClient(verify=verify, timeout=timeout)
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _run(self, flow: Flow) -> Any:
        try:
            step = next(flow)
            while True:
                if isinstance(step, NeedToken):
                    step = flow.send(await self._current(step.stale))
                else:
                    step = flow.send(await self.http.send(step))
        except StopIteration as done:
            return done.value

    async def _current(self, stale: Token | None) -> Token:
        if not self._needs_fetch(stale):
            assert self._token is not None
            return self._token
        async with self._lock:
            if self._needs_fetch(stale):
                self._obtained(await self._run(fetch_token(self.core.provider, self._token)))
            assert self._token is not None
            return self._token

    async def login(self) -> Token:
        return await self._current(None)

    async def revoke(self) -> None:
        if self._token is not None:
            await self._run(revoke_token(self.core.provider, self._token))
            self._token = None

    async def identity(self) -> dict[str, Any]:
        return await self._run(self.core.identity())  # type: ignore[no-any-return]

    async def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return await self._run(self.core.call(method, path, **kw))  # type: ignore[no-any-return]

    async def query(self, soql: str, *, include_deleted: bool = False
                    ) -> AsyncIterator[dict[str, Any]]:
        page = await self._run(self.core.query_page(soql, None, include_deleted))
        while True:
            for record in page["records"]:
                yield record
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            page = await self._run(self.core.query_page(None, page["nextRecordsUrl"], False))

    async def query_all(self, soql: str, *, include_deleted: bool = False
                        ) -> list[dict[str, Any]]:
        return [r async for r in self.query(soql, include_deleted=include_deleted)]

    async def get(self, sobject: str, record_id: str, fields: list[str] | None = None
                  ) -> dict[str, Any]:
        return await self._run(self.core.get(sobject, record_id, fields))  # type: ignore[no-any-return]

    async def create(self, sobject: str, values: dict[str, Any]) -> str:
        return await self._run(self.core.create(sobject, values))  # type: ignore[no-any-return]

    async def update(self, sobject: str, record_id: str, values: dict[str, Any]) -> None:
        await self._run(self.core.update(sobject, record_id, values))

    async def upsert(self, sobject: str, field: str, value: str, values: dict[str, Any]
                     ) -> dict[str, Any]:
        return await self._run(self.core.upsert(sobject, field, value, values))  # type: ignore[no-any-return]

    async def delete(self, sobject: str, record_id: str) -> None:
        await self._run(self.core.delete(sobject, record_id))

    async def describe(self, sobject: str | None = None) -> dict[str, Any]:
        return await self._run(self.core.describe(sobject))  # type: ignore[no-any-return]

    async def limits(self) -> dict[str, Any]:
        return await self._run(self.core.json_call("GET", "limits"))  # type: ignore[no-any-return]

    async def composite(self, subrequests: list[dict[str, Any]], all_or_none: bool = False
                        ) -> list[dict[str, Any]]:
        return await self._run(self.core.composite(subrequests, all_or_none))  # type: ignore[no-any-return]

    async def create_many(self, records: list[dict[str, Any]], all_or_none: bool = False
                          ) -> list[dict[str, Any]]:
        return await self._run(self.core.collections("POST", records, all_or_none=all_or_none))  # type: ignore[no-any-return]

    async def update_many(self, records: list[dict[str, Any]], all_or_none: bool = False
                          ) -> list[dict[str, Any]]:
        return await self._run(self.core.collections("PATCH", records, all_or_none=all_or_none))  # type: ignore[no-any-return]

    async def delete_many(self, ids: list[str], all_or_none: bool = False
                          ) -> list[dict[str, Any]]:
        return await self._run(self.core.collections("DELETE", ids=ids, all_or_none=all_or_none))  # type: ignore[no-any-return]
