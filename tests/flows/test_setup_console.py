"""The /setup admin console over HTTP (forms posted as a browser would, without one): the gate,
CSRF, POST-redirect-GET, validation next to the field, consumer details behind the password,
secret rotation and token revocation, each change in the Setup Audit Trail."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient
from tests.flows.browser_forms import forms, submit
from tests.flows.conftest import PASSWORD, SECRET, KeyPair, World


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    page = client.get("/setup/login")
    done = submit(client, page.text, username=username, password=password)
    assert done.status_code == 303 and done.headers["location"] == "/setup"


@pytest.fixture
def admin(world: World) -> World:
    log_in(world.client, world.user.username)
    return world


def audit_actions(world: World) -> list[str]:
    """The SetupAuditTrail actions made through the console (the test clock stands still, so
    they are sorted rather than in time order)."""
    return sorted(c.action for c in world.services.directory.store.list_setup_changes(
        world.org.id) if c.created_by_context == "Setup")


#: The form's checkboxes and file input: the test says which it sends.
_CHOICES = {"public", "require_pkce", "require_secret_web_server", "require_secret_refresh",
            "enable_implicit", "enable_device_flow", "enable_client_credentials",
            "rotate_refresh_tokens", "scopes", "profiles", "permission_sets", "certificate_file"}


def app_form(client: TestClient, path: str = "/setup/apps/new") -> dict[str, str]:
    """The app form's text fields and selects (as shown), without its checkboxes."""
    page = client.get(path)
    assert page.status_code == 200
    fields = next(f for f in forms(page.text) if f.action == path).fields
    return {k: v for k, v in fields.items() if k not in _CHOICES}


def test_without_a_session_pages_go_to_login_and_forms_are_refused(world: World) -> None:
    assert world.client.get("/setup", follow_redirects=False).headers["location"] == \
        "/setup/login"
    assert world.client.post("/setup/apps/new", data={"name": "x"}).status_code == 403


def test_a_non_admin_gets_403_on_every_page_and_form(world: World) -> None:
    world.services.directory.create_user(world.org.id, "std@acme.test", PASSWORD,
                                         "Standard User")
    log_in(world.client, "std@acme.test")
    app = world.app.id
    for path in ("/setup", "/setup/apps", "/setup/apps/new", f"/setup/apps/{app}",
                 f"/setup/apps/{app}/edit", f"/setup/apps/{app}/rotate"):
        page = world.client.get(path)
        assert page.status_code == 403, path
        assert "Insufficient privileges" in page.text
    for path in ("/setup/apps/new", f"/setup/apps/{app}/edit", f"/setup/apps/{app}/rotate",
                 f"/setup/apps/{app}/revoke", f"/setup/apps/{app}/consumer"):
        assert world.client.post(path, data={"password": PASSWORD}).status_code == 403, path
    assert world.services.directory.reveal_secret(world.app) == SECRET
    assert audit_actions(world).count("rotatedConsumerSecret") == 0


def test_pages_carry_the_security_headers(admin: World) -> None:
    home = admin.client.get("/setup")
    assert home.status_code == 200 and "Acme" in home.text and admin.org.id in home.text
    assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
    assert home.headers["x-frame-options"] == "DENY"
    assert home.headers["cache-control"] == "no-store"


def test_a_form_without_or_with_a_wrong_csrf_token_is_refused(admin: World) -> None:
    fields = app_form(admin.client)
    fields.update(name="Forged", callback_urls="https://x.example/cb")
    for token in (None, "0" * 64):
        data = {k: v for k, v in fields.items() if k != "csrf_token"}
        if token:
            data["csrf_token"] = token
        refused = admin.client.post("/setup/apps/new", data=data, follow_redirects=False)
        assert refused.status_code == 403
    assert admin.services.directory.store.find_app(admin.org.id, "Forged") is None


def test_create_an_app_with_a_certificate_and_client_credentials(admin: World,
                                                                  other_key_pair: KeyPair
                                                                  ) -> None:
    fields = app_form(admin.client)
    data = {**fields, "name": "Reports", "callback_urls": "https://reports.example/cb",
            "scopes": ["api", "refresh_token"], "enable_client_credentials": "1",
            "run_as": admin.user.id, "session_timeout_minutes": "60"}
    done = admin.client.post("/setup/apps/new", data=data,
                             files={"certificate_file": ("c.pem",
                                                         other_key_pair.certificate_pem)},
                             follow_redirects=False)
    assert done.status_code == 303
    app = admin.services.directory.store.find_app(admin.org.id, "Reports")
    assert app is not None and done.headers["location"] == f"/setup/apps/{app.id}?done=created"
    assert app.enable_client_credentials and app.run_as_user_id == admin.user.id
    assert app.scopes == ("api", "refresh_token") and app.session_timeout_minutes == 60
    assert app.certificate == other_key_pair.certificate_pem
    page = admin.client.get(done.headers["location"]).text
    assert "CN=attacker" in page and re.search(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", page)
    assert app.consumer_key in page
    secret = admin.services.directory.reveal_secret(app)
    assert secret and secret not in page and secret not in done.headers["location"]
    token = admin.client.post("/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": app.consumer_key,
        "client_secret": secret})
    assert token.status_code == 200, token.text
    assert audit_actions(admin) == ["createdConnectedApp", "insertCertificate"]


def test_validation_errors_are_shown_next_to_the_field_with_the_values_kept(
        admin: World) -> None:
    fields = app_form(admin.client)
    cases = [({"callback_urls": "http://evil.example/cb"}, "callback_urls", "must use https"),
             ({"certificate": "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----"},
              "certificate", "is not a PEM X.509 certificate"),
             ({"session_timeout_minutes": "0"}, "session_timeout_minutes", "between 1 and 1440"),
             ({"enable_client_credentials": "1"}, "run_as", "required"),
             ({"refresh_token_policy": "expire_after"}, "refresh_token_policy", "needs a period")]
    before = audit_actions(admin)
    for change, field, message in cases:
        data = {**fields, "name": "Kept Name", **change}
        page = admin.client.post("/setup/apps/new", data=data, follow_redirects=False)
        assert page.status_code == 400
        error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page.text)
        assert error and message in error.group(1), (field, page.text[:200])
        assert 'value="Kept Name"' in page.text
        kept = next(iter(change.values())).replace('"', "&#34;")
        assert kept.split("\n")[0] in page.text
    assert audit_actions(admin) == before
    assert admin.services.directory.store.find_app(admin.org.id, "Kept Name") is None


def test_edit_keeps_the_key_and_secret_and_is_audited(admin: World) -> None:
    path = f"/setup/apps/{admin.app.id}/edit"
    fields = app_form(admin.client, path)
    assert fields["name"] == "Acme Integration"
    done = admin.client.post(path, data={**fields, "session_timeout_minutes": "30",
                                         "scopes": ["api"], "run_as": admin.user.id,
                                         "enable_client_credentials": "1"},
                             follow_redirects=False)
    assert done.status_code == 303
    app = admin.services.directory.store.get_app(admin.app.id)
    assert app is not None and app.session_timeout_minutes == 30 and app.scopes == ("api",)
    assert app.consumer_key == admin.app.consumer_key
    assert admin.services.directory.reveal_secret(app) == SECRET
    changes = [(c.action, c.created_by_id) for c in
               admin.services.directory.store.list_setup_changes(admin.org.id)
               if c.created_by_context == "Setup"]
    assert changes == [("changedConnectedApp", admin.user.id)]


def test_consumer_details_need_the_password_again(admin: World) -> None:
    page = admin.client.get(f"/setup/apps/{admin.app.id}").text
    wrong = submit(admin.client, page, password="not-it")
    assert wrong.status_code == 401 and SECRET not in wrong.text
    assert "That password is not right." in wrong.text
    right = submit(admin.client, page, password=PASSWORD)
    assert right.status_code == 200 and f'value="{SECRET}"' in right.text
    assert right.headers["cache-control"] == "no-store"


def test_rotate_the_secret_and_the_old_one_is_refused(admin: World) -> None:
    confirm = admin.client.get(f"/setup/apps/{admin.app.id}/rotate")
    done = submit(admin.client, confirm.text)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=rotated")
    old = admin.token(grant_type="client_credentials", client_id=admin.app.consumer_key,
                      client_secret=SECRET)
    assert old.status_code == 400  # type: ignore[attr-defined]
    new = admin.services.directory.reveal_secret(admin.app)
    assert new != SECRET
    assert admin.token(grant_type="client_credentials", client_id=admin.app.consumer_key,
                       client_secret=new).status_code == 200  # type: ignore[attr-defined]
    assert audit_actions(admin) == ["rotatedConsumerSecret"]


def test_revoke_a_users_tokens_of_the_app(admin: World) -> None:
    issued = admin.token(grant_type="password", client_id=admin.app.consumer_key,
                         client_secret=SECRET, username=admin.user.username,
                         password=PASSWORD + "TOKEN123").json()  # type: ignore[attr-defined]
    bearer = {"Authorization": f"Bearer {issued['access_token']}"}
    page = admin.client.get(f"/setup/apps/{admin.app.id}").text
    assert admin.user.username in page.split('id="usage"')[1]
    revoke = next(f for f in forms(page) if f.fields.get("user_id") == admin.user.id)
    done = admin.client.post(revoke.action, data=revoke.fields, follow_redirects=False)
    assert done.status_code == 303
    assert admin.client.get("/services/data/v62.0/sobjects", headers=bearer).status_code == 401
    after = admin.client.get(done.headers["location"]).text
    assert "OAuth tokens revoked." in after and "No user holds tokens" in after
    assert [c.display for c in admin.services.directory.store.list_setup_changes(admin.org.id)
            if c.created_by_context == "Setup"] == [
        f"Revoked OAuth tokens of {admin.user.username} for connected app Acme Integration"]
