"""Per-client-IP rate limit on the endpoints that take credentials (token, authorize login
form, device activation, SOAP login, revoke, introspect): a guard against credential stuffing
and client-secret guessing (anchors.md §3 #35). Counted in the shared counters, so the budget
holds across workers and replicas; the IP is the one ``web.clientip`` resolved.

Direct loopback clients are exempt unless ``settings.rate_limit_loopback``: localforce mostly
serves test suites on the same machine, which log in far more often than any attacker could
from there (a request relayed by a local reverse proxy is not exempt; ``web.clientip``).

Refusals: Salesforce's ``rate_limit_exceeded`` / ``number of logins exceeded`` (HTTP 400,
salesforce-wire.md §4.1) on ``/services/oauth2``; a ``LOGIN_RATE_EXCEEDED`` fault for SOAP;
a 429 page elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from localforce.limits.rate import LoginRateLimiter, RateLimited
from localforce.web import threads
from localforce.web.clientip import STATE_KEY, direct_loopback
from localforce.web.errors import login_rate_response

PREFIXES = ("/services/oauth2/", "/services/Soap/u/")


class LoginRateByIp:
    def __init__(self, app: ASGIApp, limiter: LoginRateLimiter,
                 extra_paths: tuple[str, ...] = (),
                 on_reject: Callable[[], None] | None = None,
                 exempt_loopback: bool = False) -> None:
        self.app = app
        self.limiter = limiter
        self.extra_paths = extra_paths
        self.on_reject = on_reject
        self.exempt_loopback = exempt_loopback

    def guards(self, scope: Scope) -> bool:
        """Whether this request counts against its IP's budget (``counted`` counts it)."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return False
        if self.exempt_loopback and direct_loopback(scope):
            return False
        path = scope["path"]
        return path.startswith(PREFIXES) or path in self.extra_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await self.allows(scope):
            await refusal(scope["path"])(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def allows(self, scope: Scope) -> bool:
        """Count the attempt if this request is guarded; False once its IP is over budget."""
        return not self.guards(scope) or await self.counted(scope)

    async def counted(self, scope: Scope) -> bool:
        """Count a guarded request's attempt (``guards`` said so); False once its IP is over
        budget."""
        address = (scope.get("state") or {}).get(STATE_KEY)
        try:
            await threads.run(self.limiter.ip_attempt, address)
        except RateLimited:
            if self.on_reject is not None:
                self.on_reject()
            return False
        return True


#: The refusal, in the shape the path's clients read.
refusal = login_rate_response
