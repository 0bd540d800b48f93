"""Minting tokens: opaque access and refresh tokens, id_tokens, and Salesforce's response fields.

Every flow ends here: ``Issuer.issue(app, user, scopes, policy)`` stores the digests and
returns a ``TokenResponse`` with ``access_token``, ``instance_url``, ``id``, ``token_type``,
``issued_at`` (ms string), ``signature`` (salesforce-wire.md §3), ``scope``, and
``refresh_token`` / ``id_token`` when granted. No ``expires_in``: Salesforce sends none.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from localforce.domain import ids
from localforce.domain import scopes as scope_words
from localforce.domain.models import ConnectedApp, User
from localforce.oauth.errors import InvalidDpopProof
from localforce.oauth.keys import KeyRing
from localforce.oauth.messages import TokenResponse
from localforce.oauth.ports import ACCESS, REFRESH, TokenRecord, TokenStore
from localforce.security import tokens
from localforce.security.tokens import digest

#: Session timeout for SOAP logins and apps without one (Salesforce's default, 2 hours).
DEFAULT_SESSION_SECONDS = 7200


def signature(identity_url: str, issued_at: str, consumer_secret: str) -> str:
    """Base64(HMAC-SHA256(key=consumer secret, msg=id + issued_at)), salesforce-wire.md §3."""
    mac = hmac.new(consumer_secret.encode(), (identity_url + issued_at).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the access token."""
    half = hashlib.sha256(access_token.encode()).digest()[:16]
    return base64.urlsafe_b64encode(half).rstrip(b"=").decode()


def new_access_token(org_id: str) -> str:
    """``{orgId15}!{opaque}``: matches sfdx-core's ``/(00D\\w{12,15})![.\\w]*/`` (wire §0 C8);
    stamped with the time it was minted (security/tokens.py)."""
    return tokens.access_token(ids.to15(org_id))


def new_refresh_token() -> str:
    """``[A-Za-z0-9._-]``, like Salesforce's ``5Aep861...`` (needed by sfdx auth URLs)."""
    return tokens.refresh_token()


def new_family_id() -> str:
    """32 hex digits: the microseconds since the epoch (14), then 72 random bits (18).

    Opaque and never sent; it only ties a grant's tokens together for ``revoke_family``. The
    time first makes each new family the last key of the stored index on it, so a grant's
    insert touches the index's last pages instead of a random page of a large table
    (bench/README.md, twenty-first pass)."""
    return f"{time.time_ns() // 1000:014x}{secrets.token_hex(9)}"


@dataclass(frozen=True, slots=True)
class IssuePolicy:
    """How one grant's tokens are minted; flows with fixed rules keep theirs as a constant.

    ``flow``: the token rows' flow name. ``family_id`` ties everything from one grant together
    (new if None); ``parent_digest`` is the refresh token an access token came from;
    ``signed=False`` leaves out ``issued_at`` and ``signature`` (the JWT bearer response has
    neither). ``refresh_scopes`` (default the access token's) keeps a rotated refresh token's
    scope equal to the one it replaces (RFC 6749 §6) when the access token's was narrowed.
    ``with_id_token=False``: no ``id_token`` even with ``openid`` (the client-credentials
    response has none, salesforce-wire.md §2.7).
    """

    flow: str
    with_refresh: bool = False
    family_id: str | None = None
    nonce: str | None = None
    parent_digest: str | None = None
    refresh_scopes: tuple[str, ...] | None = None
    refresh_expires_at: int | None = None
    signed: bool = True
    with_id_token: bool = True
    #: RFC 9449: the thumbprint of the DPoP key the tokens are bound to (None: bearer tokens).
    jkt: str | None = None
    #: RFC 8693 §4.1: the consumer key of the client the token was exchanged for (its actor).
    act: str | None = None


def dpop_missing(app: ConnectedApp, jkt: str | None) -> bool:
    """The app requires DPoP (RFC 9449) and the request came without a verified proof."""
    return app.require_dpop and jkt is None


def bound(policy: IssuePolicy, jkt: str | None) -> IssuePolicy:
    """``policy`` with its tokens bound to the DPoP key ``jkt`` (unchanged when None)."""
    return policy if jkt is None else replace(policy, jkt=jkt)


@dataclass(frozen=True)
class Issued:
    """A session for callers that are not OAuth clients (SOAP ``login()``)."""

    access_token: str
    seconds_valid: int


class Issuer:
    def __init__(self, tokens: TokenStore, keys: KeyRing, secret_of: Callable[[ConnectedApp],
                 str | None], base_url: str, clock: Callable[[], float], *,
                 refresh_max_days: int = 365,
                 session_seconds: Callable[[str], int] | None = None) -> None:
        """``session_seconds(org_id)``: the org's session timeout, for the access tokens of
        apps that set none of their own and for SOAP sessions."""
        self._tokens = tokens
        self._session_seconds = session_seconds or (lambda _org_id: DEFAULT_SESSION_SECONDS)
        self._keys = keys
        self._secret_of = secret_of
        self.base_url = base_url.rstrip("/")
        self._clock = clock
        self._refresh_max = refresh_max_days * 86400

    def identity_url(self, user: User) -> str:
        return f"{self.base_url}/id/{ids.to18(user.org_id)}/{ids.to18(user.id)}"

    def issue(self, app: ConnectedApp, user: User, scopes: tuple[str, ...],
              policy: IssuePolicy, secret: str | None = None) -> TokenResponse:
        """Mint an access token (and a refresh token if ``policy.with_refresh``) for ``user``
        via ``app``. ``secret``: the app's consumer secret when the caller already has it (it
        was presented and checked); otherwise it is opened here for a signed response."""
        jkt = policy.jkt
        if jkt is None and app.require_dpop:
            raise InvalidDpopProof("DPoP proof required")
        now_ms = int(self._clock() * 1000)
        now = now_ms // 1000
        family = policy.family_id or new_family_id()
        ttl = self.session_seconds(app, user.org_id)
        if app.jwt_access_tokens:
            access, ends = self.jwt_access_token(app, user, scopes, policy, now, ttl), now + ttl
        else:
            access, ends = new_access_token(user.org_id), None
        self._tokens.add(TokenRecord(
            digest(access), ACCESS, user.org_id, user.id, app.id, scopes, family, policy.flow,
            now, now, idle_timeout=ttl, expires_at=ends,
            parent_digest=policy.parent_digest, jkt=jkt, act=policy.act))
        refresh = None
        if policy.with_refresh:
            refresh = new_refresh_token()
            expires = policy.refresh_expires_at or (now + self._refresh_max if self._refresh_max
                                                    else None)
            # RFC 9449 §5: a public client's refresh token is bound to the key too (a
            # confidential client's is bound to its client authentication).
            self._tokens.add(TokenRecord(digest(refresh), REFRESH, user.org_id, user.id, app.id,
                                         policy.refresh_scopes or scopes, family, policy.flow,
                                         now, now, expires_at=expires,
                                         jkt=None if app.has_secret else jkt))
        identity = self.identity_url(user)
        issued_at = str(now_ms)
        signed = policy.signed
        if signed and secret is None:
            secret = self._secret_of(app)
        return TokenResponse(
            access_token=access, instance_url=self.base_url, id=identity,
            issued_at=issued_at if signed else None,
            # A public client (no consumer secret) has no key to sign with.
            signature=signature(identity, issued_at, secret) if signed and secret else None,
            scope=scope_words.render(scopes), refresh_token=refresh,
            id_token=(self.id_token(app, user, access, policy.nonce, now)
                      if policy.with_id_token and "openid" in scopes else None),
            token_type="Bearer" if jkt is None else "DPoP")

    def jwt_access_token(self, app: ConnectedApp, user: User, scopes: tuple[str, ...],
                         policy: IssuePolicy, now: int, ttl: int) -> str:
        """RFC 9068 §2: ``typ: at+jwt``, signed by the key published at /id/keys, with iss,
        exp, aud (this server: the data API is the resource), sub (the user's Id), client_id,
        iat, jti, scope, ``cnf.jkt`` when DPoP-bound and ``act`` when exchanged (RFC 8693).

        The token is stored by its digest like an opaque one, and every endpoint of this
        server looks it up there (revocation and the idle timeout still hold): the signature
        is for other resource servers. Its ``exp`` is also the stored absolute end, so no
        verifier accepts it longer than the server does."""
        claims: dict[str, object] = {
            "iss": self.base_url, "exp": now + ttl, "aud": self.base_url,
            "sub": ids.to18(user.id), "client_id": app.consumer_key, "iat": now,
            "jti": secrets.token_urlsafe(16), "scope": scope_words.render(scopes)}
        if policy.jkt is not None:
            claims["cnf"] = {"jkt": policy.jkt}
        if policy.act is not None:
            claims["act"] = {"client_id": policy.act}
        return self._keys.sign(claims, typ="at+jwt")

    def id_token(self, app: ConnectedApp, user: User, access_token: str, nonce: str | None,
                 now: int) -> str:
        """RS256 id_token (OIDC Core §2): iss, sub (the identity URL, as Salesforce), aud,
        exp, iat, at_hash, nonce when given, and the standard profile claims."""
        claims: dict[str, object] = {
            "iss": self.base_url, "sub": self.identity_url(user), "aud": app.consumer_key,
            "exp": now + self._keys.token_ttl, "iat": now, "at_hash": at_hash(access_token),
            "preferred_username": user.username, "name": user.name, "email": user.email,
            "given_name": user.first_name, "family_name": user.last_name,
            "user_id": ids.to18(user.id), "organization_id": ids.to18(user.org_id),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        return self._keys.sign(claims)

    def session_seconds(self, app: ConnectedApp | None, org_id: str) -> int:
        """An access token's inactivity timeout: the app's own, else the org's."""
        if app is not None and app.session_timeout_minutes:
            return app.session_timeout_minutes * 60
        return self._session_seconds(org_id)

    def issue_session(self, user: User, flow: str = "soap",
                      seconds_valid: int | None = None) -> Issued:
        """A session id without an app (SOAP partner ``login()``): full access, for the org's
        session timeout unless ``seconds_valid`` says otherwise."""
        if seconds_valid is None:
            seconds_valid = self._session_seconds(user.org_id)
        now = int(self._clock())
        access = new_access_token(user.org_id)
        self._tokens.add(TokenRecord(digest(access), ACCESS, user.org_id, user.id, None,
                                     ("full",), new_family_id(), flow, now, now,
                                     idle_timeout=seconds_valid))
        return Issued(access, seconds_valid)
