"""The built-in PlatformCLI app exists in every org under the same consumer key: a refresh
(``sf`` refreshes with ``client_id=PlatformCLI`` and no secret, clients.md §3) uses the copy
in the refresh token's own org, whichever org is oldest."""

from __future__ import annotations

from tests.flows.conftest import World

from localforce.oauth.issuing import IssuePolicy

#: How these tests mint a refresh token (as the authorization-code grant would).
CODE_GRANT = IssuePolicy("authorization_code", with_refresh=True)


def _platform_cli_refresh_token(world: World) -> tuple[str, str]:
    """A PlatformCLI refresh token for a user of an org whose PlatformCLI is *not* the one a
    bare key lookup finds (that is the oldest org's)."""
    directory = world.services.directory
    orgs = [directory.create_org("Org A"), directory.create_org("Org B")]
    default = directory.store.find_app_by_key("PlatformCLI")
    assert default is not None
    other = next(o for o in orgs if o.id != default.org_id)
    user, _ = directory.create_user(other.id, "dev@other.test", "Pw-12345678", "Standard User")
    app = directory.store.find_app_by_key("PlatformCLI", other.id)
    assert app is not None and app.org_id == other.id and app.id != default.id
    issued = world.services.oauth.issuer.issue(app, user, ("refresh_token", "api", "web"),
                                               CODE_GRANT)
    assert issued.refresh_token is not None
    return issued.refresh_token, other.id


def test_platform_cli_refresh_in_a_second_org(world: World) -> None:
    refresh_token, org_id = _platform_cli_refresh_token(world)
    response = world.token(grant_type="refresh_token", refresh_token=refresh_token,
                           client_id="PlatformCLI")
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["access_token"].startswith(org_id[:15] + "!")
    assert body["scope"] == "refresh_token api web"


def test_another_apps_key_still_cannot_use_the_token(world: World) -> None:
    refresh_token, _ = _platform_cli_refresh_token(world)
    response = world.token(grant_type="refresh_token", refresh_token=refresh_token,
                           client_id=world.app.consumer_key,
                           client_secret="wrong-or-right-does-not-matter")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert response.json()["error"] in ("invalid_client", "invalid_grant")  # type: ignore[attr-defined]
