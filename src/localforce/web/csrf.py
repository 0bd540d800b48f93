"""CSRF tokens for the pages' forms, bound to the browser's session cookie.

The token is SHA-256 over a domain-separation label and the cookie value (OWASP's "signed
double-submit cookie" with the HttpOnly cookie as the secret): a cross-site page can make the
browser send the cookie but cannot read it, so it cannot compute the token. Nothing is stored.
A browser without a cookie yet gets one with the first form, which also covers the login form
(login CSRF).
"""

from __future__ import annotations

import hashlib

from localforce.security.tokens import constant_time_equals

FIELD = "csrf_token"


def token_for(browser_id: str) -> str:
    return hashlib.sha256(b"localforce-csrf\x00" + browser_id.encode()).hexdigest()


def valid(browser_id: str | None, presented: str | None) -> bool:
    if not browser_id or not presented:
        return False
    return constant_time_equals(token_for(browser_id), presented)
