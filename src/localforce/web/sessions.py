"""The browser session: an opaque random id in an HttpOnly cookie, its state on the server.

- The cookie holds 256 random bits; the server keeps only its SHA-256 digest, with the user
  and the login time (``browser_sessions``), so any replica can read it and logout is real.
- ``HttpOnly``, ``SameSite=Lax`` (the redirect back from a client app is a top-level GET),
  ``Secure`` whenever the page was served over TLS, ``Path=/``.
- A browser that has not logged in still gets a cookie (no server state) so its forms carry
  CSRF tokens; logging in replaces the id (no session fixation), logging out deletes it.
- Sessions end after the user's org's session timeout (Setup's Session Settings; the server's
  ``session_timeout_minutes`` otherwise, Salesforce's 2 hours), counted from the login. A
  timeout shortened in Setup ends longer sessions already running within the cache's second;
  one lengthened applies to sessions started after it.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from localforce.directory.ports import UserLookup
from localforce.domain.models import User
from localforce.oauth.artifacts import LoginSession, SessionStore
from localforce.security.tokens import digest, random_token

COOKIE = "lf_session"
LIFETIME = 2 * 60 * 60


def is_tls(request: Request) -> bool:
    return request.url.scheme == "https"


class BrowserSessions:
    def __init__(self, store: SessionStore, users: UserLookup, clock: Callable[[], float],
                 timeout_of: Callable[[str], int] | None = None) -> None:
        """``timeout_of(org_id)``: the org's session timeout in seconds."""
        self._store = store
        self._users = users
        self._clock = clock
        self._timeout_of = timeout_of or (lambda _org_id: LIFETIME)

    @staticmethod
    def browser_id(request: Request) -> str | None:
        return request.cookies.get(COOKIE) or None

    def user(self, request: Request) -> User | None:
        """The logged-in, active user of this browser, if any."""
        browser_id = self.browser_id(request)
        session = self._store.get_session(digest(browser_id)) if browser_id else None
        now = self._clock()
        if session is None or session.expires_at <= now:
            return None
        if now - session.auth_time >= self._timeout_of(session.org_id):
            return None  # the org's timeout was shortened since
        user = self._users.get_user(session.user_id)
        return user if user is not None and user.active else None

    def log_in(self, request: Request, user: User) -> str:
        """Start a session for ``user`` under a new id (the old one dies); returns the id."""
        self.log_out(request)
        browser_id = random_token(32)
        now = int(self._clock())
        self._store.save_session(LoginSession(digest(browser_id), user.id, user.org_id, now,
                                              now + self._timeout_of(user.org_id)))
        return browser_id

    def log_out(self, request: Request) -> None:
        browser_id = self.browser_id(request)
        if browser_id:
            self._store.delete_session(digest(browser_id))

    def set_cookie(self, request: Request, response: Response, browser_id: str,
                   user: User | None = None) -> None:
        """The cookie lives as long as ``user``'s session (a browser without a login: the
        default timeout); the server's record decides either way."""
        max_age = self._timeout_of(user.org_id) if user is not None else LIFETIME
        response.set_cookie(COOKIE, browser_id, max_age=max_age, path="/",
                            secure=is_tls(request), httponly=True, samesite="lax")
