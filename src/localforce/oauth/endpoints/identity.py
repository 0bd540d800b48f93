"""The identity URL and OIDC userinfo, in Salesforce's shapes (salesforce-wire.md §1.3, §1.4).

    GET /id/{orgId}/{userId}?format=json           Authorization: Bearer <token>
    GET /id/{orgId}/{userId}?oauth_token=<token>   (jsforce's ``conn.identity()``)
    GET /services/oauth2/userinfo                  Authorization: Bearer <token>

A DPoP-bound token (RFC 9449) comes with the key of its request's verified proof (``jkt``,
web/auth.py ``identity_credentials``); without it, or with another key, it is a bad token.

URLs keep the literal ``{version}`` unless ``?version=NN.0`` or ``latest`` is passed. A bad
token is 403 ``Bad_OAuth_Token`` in plain text; an identity URL of another user is 403
``Bad_Id``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from localforce.data.versions import versions
from localforce.directory.ports import OrgLookup, UserLookup
from localforce.domain import ids
from localforce.domain.models import Org, User
from localforce.domain.principal import Principal
from localforce.oauth.sessions import InvalidSession


class IdentityError(Exception):
    """Rendered as plain text with ``status`` (Salesforce's identity service errors)."""

    def __init__(self, text: str, status: int = 403) -> None:
        super().__init__(text)
        self.text = text
        self.status = status


BAD_TOKEN = "Bad_OAuth_Token"
BAD_ID = "Bad_Id"
WRONG_VERSION = "Wrong_Version"


class SessionResolver(Protocol):
    """The bearer token's principal (``Sessions``)."""

    def resolve(self, token: str, *, require_api: bool = True,
                jkt: str | None = None) -> Principal: ...


class Identity:
    """``identity_url(user)``: the issuer's; ``base_url``: this server's public URL."""

    def __init__(self, sessions: SessionResolver, users: UserLookup, orgs: OrgLookup,
                 identity_url: Callable[[User], str], base_url: str) -> None:
        self._sessions = sessions
        self._users = users
        self._orgs = orgs
        self._identity_url = identity_url
        self._base_url = base_url

    def principal(self, token: str | None, jkt: str | None = None) -> Principal:
        if not token:
            raise IdentityError(BAD_TOKEN)
        try:
            return self._sessions.resolve(token, require_api=False, jkt=jkt)
        except InvalidSession:
            raise IdentityError(BAD_TOKEN) from None

    def identity(self, token: str | None, org_id: str, user_id: str,
                 version: str | None, jkt: str | None = None) -> dict[str, Any]:
        principal = self.principal(token, jkt)
        if not (ids.same_id(org_id, principal.org_id) and ids.same_id(user_id, principal.user_id)):
            raise IdentityError(BAD_ID)
        user, org = self._user_org(principal)
        base = self._base_url
        return {
            "id": self._identity_url(user), "asserted_user": True,
            "user_id": ids.to18(user.id), "organization_id": ids.to18(org.id),
            "username": user.username, "nick_name": _nickname(user),
            "display_name": user.name, "email": user.email, "email_verified": True,
            "first_name": user.first_name, "last_name": user.last_name,
            "timezone": user.time_zone, "photos": _photos(base),
            "addr_street": None, "addr_city": None, "addr_state": None, "addr_country": None,
            "addr_zip": None, "mobile_phone": None, "mobile_phone_verified": False,
            "is_lightning_login_user": False, "status": {"created_date": None, "body": None},
            "urls": self._urls(user, org, version), "active": user.active,
            "user_type": "STANDARD", "language": user.language, "locale": user.locale,
            "utcOffset": 0, "last_modified_date": None, "is_app_installed": True,
        }

    def userinfo(self, token: str | None, version: str | None = None,
                 jkt: str | None = None) -> dict[str, Any]:
        principal = self.principal(token, jkt)
        user, org = self._user_org(principal)
        base = self._base_url
        photos = _photos(base)
        return {
            "sub": self._identity_url(user), "user_id": ids.to18(user.id),
            "organization_id": ids.to18(org.id), "preferred_username": user.username,
            "nickname": _nickname(user), "name": user.name, "email": user.email,
            "email_verified": True, "given_name": user.first_name,
            "family_name": user.last_name, "zoneinfo": user.time_zone, "photos": photos,
            "profile": f"{base}/{ids.to18(user.id)}", "picture": photos["picture"],
            "address": {}, "is_salesforce_integration_user": False,
            "urls": self._urls(user, org, version), "active": user.active,
            "user_type": "STANDARD", "language": user.language, "locale": user.locale,
            "utcOffset": 0, "updated_at": None, "is_app_installed": True,
        }

    def _user_org(self, principal: Principal) -> tuple[User, Org]:
        user, org = self._users.get_user(principal.user_id), self._orgs.get_org(principal.org_id)
        if user is None or org is None:
            raise IdentityError(BAD_TOKEN)
        return user, org

    def _urls(self, user: User, org: Org, version: str | None) -> dict[str, str]:
        v = _version(version)
        b = self._base_url
        o = ids.to15(org.id)
        data = f"{b}/services/data/v{v}"
        return {
            "enterprise": f"{b}/services/Soap/c/{v}/{o}",
            "metadata": f"{b}/services/Soap/m/{v}/{o}",
            "partner": f"{b}/services/Soap/u/{v}/{o}",
            "rest": f"{data}/", "sobjects": f"{data}/sobjects/", "search": f"{data}/search/",
            "query": f"{data}/query/", "recent": f"{data}/recent/",
            "tooling_soap": f"{b}/services/Soap/T/{v}/{o}", "tooling_rest": f"{data}/tooling/",
            "profile": f"{b}/{ids.to18(user.id)}",
            "feeds": f"{data}/chatter/feeds", "groups": f"{data}/chatter/groups",
            "users": f"{data}/chatter/users", "feed_items": f"{data}/chatter/feed-items",
            "feed_elements": f"{data}/chatter/feed-elements", "custom_domain": b,
        }


def _version(version: str | None) -> str:
    """``{version}`` literally unless asked; ``latest`` is the newest; others must exist."""
    if not version:
        return "{version}"
    known = [v["version"] for v in versions()]
    if version == "latest":
        return known[-1]
    if version not in known:
        raise IdentityError(WRONG_VERSION)
    return version


def _nickname(user: User) -> str:
    return user.username.split("@")[0]


def _photos(base: str) -> dict[str, str]:
    return {"picture": f"{base}/profilephoto/005/F", "thumbnail": f"{base}/profilephoto/005/T"}
