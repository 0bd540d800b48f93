"""The /setup admin console over HTTP (forms posted as a browser would, without one): the gate,
CSRF, POST-redirect-GET, validation next to the field, consumer details behind the password,
secret rotation and token revocation, each change in the Setup Audit Trail."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.flows.browser_forms import forms, submit
from tests.flows.conftest import PASSWORD, SECRET, KeyPair, World

from localforce.domain import ids
from localforce.domain.models import PermissionSet


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
            "rotate_refresh_tokens", "require_par", "require_dpop", "require_private_key_jwt", "allow_token_exchange", "jwt_access_tokens", "scopes", "profiles", "permission_sets",
            "certificate_file"}


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
                 "/setup/profiles", "/setup/logins", "/setup/audit", "/setup/audit?format=csv",
                 "/setup/org", "/setup/api-usage",
                 f"/setup/apps/{app}/edit", f"/setup/apps/{app}/rotate",
                 f"/setup/profiles/{world.user.profile_id}"):
        page = world.client.get(path)
        assert page.status_code == 403, path
        assert "Insufficient privileges" in page.text
    user = world.user.id
    for path in ("/setup/users", f"/setup/users/{user}", f"/setup/users/{user}/edit"):
        assert world.client.get(path).status_code == 403, path
    for path in ("/setup/apps/new", f"/setup/apps/{app}/edit", f"/setup/apps/{app}/rotate",
                 f"/setup/apps/{app}/revoke", f"/setup/apps/{app}/consumer", "/setup/users/new",
                 f"/setup/users/{user}/edit", f"/setup/users/{user}/reset-password",
                 f"/setup/users/{user}/reset-token", f"/setup/users/{user}/unlock",
                 f"/setup/users/{user}/active", f"/setup/users/{user}/assign",
                 f"/setup/users/{user}/revoke", f"/setup/profiles/{world.user.profile_id}",
                 "/setup/org"):
        assert world.client.post(path, data={"password": PASSWORD}).status_code == 403, path
    assert world.services.directory.reveal_secret(world.app) == SECRET
    assert audit_actions(world).count("rotatedConsumerSecret") == 0


def test_pages_carry_the_security_headers(admin: World) -> None:
    home = admin.client.get("/setup")
    assert home.status_code == 200 and "Acme" in home.text and admin.org.id in home.text
    assert home.headers["content-security-policy"] == (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "base-uri 'none'; frame-ancestors 'none'")
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


@pytest.mark.parametrize(("flag", "shown"), [("require_par", "PAR required"),
                                              ("require_dpop", "DPoP required"),
                                              ("require_private_key_jwt",
                                               "private_key_jwt required"),
                                              ("allow_token_exchange",
                                               "Token exchange allowed"),
                                              ("jwt_access_tokens", "JWT access tokens")])
def test_create_an_app_with_a_requirement(admin: World, flag: str, shown: str) -> None:
    data = {**app_form(admin.client), "name": "Strict", "callback_urls": "https://s.example/cb",
            "scopes": ["api"], flag: "1"}
    done = admin.client.post("/setup/apps/new", data=data, follow_redirects=False)
    assert done.status_code == 303
    app = admin.services.directory.store.find_app(admin.org.id, "Strict")
    assert app is not None and getattr(app, flag)
    assert f"<dt>{shown}</dt><dd>yes</dd>" in admin.client.get(done.headers["location"]).text


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


# -- users ------------------------------------------------------------------------------------

def user_page(world: World, username: str) -> tuple[str, str]:
    """(the user's id, their Setup page)."""
    found = world.services.directory.store.find_user(username)
    assert found is not None
    return found.id, world.client.get(f"/setup/users/{found.id}").text


def password_login(world: World, username: str, password: str) -> int:
    return world.token(grant_type="password", client_id=world.app.consumer_key,  # type: ignore[attr-defined, no-any-return]
                       client_secret=SECRET, username=username, password=password).status_code


def test_create_a_user_then_edit_with_errors_next_to_the_field(admin: World) -> None:
    page = admin.client.get("/setup/users/new").text
    taken = submit(admin.client, page, first_name="Grace", last_name="Hopper",
                   email="grace@acme.test", username=admin.user.username, profile="Standard User",
                   password="Grace-Pass-1")
    assert taken.status_code == 400 and 'id="username-error">username' in taken.text
    assert 'value="Grace"' in taken.text and "already taken" in taken.text
    done = submit(admin.client, page, first_name="Grace", last_name="Hopper",
                  email="grace@acme.test", username="grace@acme.test", profile="Standard User",
                  password="Grace-Pass-1")
    assert done.status_code == 303
    user_id, view = user_page(admin, "grace@acme.test")
    assert done.headers["location"] == f"/setup/users/{user_id}?done=created"
    assert "Standard User" in view
    edit = admin.client.get(f"/setup/users/{user_id}/edit").text
    bad = submit(admin.client, edit, email="not-an-email")
    assert bad.status_code == 400 and 'id="email-error"' in bad.text
    assert 'value="not-an-email"' in bad.text
    saved = submit(admin.client, edit, profile="Read Only", last_name="Hopper-Murray")
    assert saved.status_code == 303
    user = admin.services.directory.store.get_user(user_id)
    assert user is not None and user.last_name == "Hopper-Murray"
    assert audit_actions(admin) == ["changedprofileforuser", "changeduser", "createduser"]


def test_reset_password_and_security_token_and_log_in_with_the_new_ones(admin: World) -> None:
    admin.services.directory.create_user(admin.org.id, "bob@acme.test", "Bob-Pass-1",
                                         "System Administrator", security_token="OLDTOKEN")
    user_id, page = user_page(admin, "bob@acme.test")
    reset = admin.client.post(f"/setup/users/{user_id}/reset-password", follow_redirects=False,
                              data={"csrf_token": forms(page)[-1].fields["csrf_token"]})
    assert reset.status_code == 200 and reset.headers["cache-control"] == "no-store"
    password = re.search(r'id="shown-value" readonly value="([^"]+)"', reset.text)
    assert password is not None
    token_page = admin.client.post(f"/setup/users/{user_id}/reset-token",
                                   data={"csrf_token": forms(page)[-1].fields["csrf_token"]})
    token = re.search(r'id="shown-value" readonly value="([^"]+)"', token_page.text)
    assert token is not None and token.group(1) != "OLDTOKEN"
    assert password_login(admin, "bob@acme.test", "Bob-Pass-1OLDTOKEN") == 400
    assert password_login(admin, "bob@acme.test", password.group(1) + "OLDTOKEN") == 400
    assert password_login(admin, "bob@acme.test", password.group(1) + token.group(1)) == 200
    assert admin.client.get(f"/setup/users/{user_id}").text.count(password.group(1)) == 0
    assert audit_actions(admin) == ["resetpassword", "resetsecuritytoken"]


def test_unlock_deactivate_and_assign(admin: World) -> None:
    directory = admin.services.directory
    user, _ = directory.create_user(admin.org.id, "locked@acme.test", "Locked-Pass-1",
                                    "Standard User", security_token="TOK")
    for _ in range(10):
        password_login(admin, "locked@acme.test", "wrong")
    assert password_login(admin, "locked@acme.test", "Locked-Pass-1TOK") == 400
    page = admin.client.get(f"/setup/users/{user.id}").text
    assert "locked after" in page
    csrf_token = forms(page)[-1].fields["csrf_token"]

    def post(action: str, **data: str) -> str:
        done = admin.client.post(f"/setup/users/{user.id}/{action}", follow_redirects=False,
                                 data={"csrf_token": csrf_token, **data})
        assert done.status_code == 303, done.text
        return str(done.headers["location"])

    assert post("unlock").endswith("?done=unlocked")
    assert password_login(admin, "locked@acme.test", "Locked-Pass-1TOK") == 200
    assert post("active", active="0").endswith("?done=deactivated")
    assert password_login(admin, "locked@acme.test", "Locked-Pass-1TOK") == 400
    post("active", active="1")
    extra = PermissionSet(ids.new_id("0PS"), admin.org.id, "Extra Access", api_enabled=True)
    directory.store.save_permission_set(extra)
    assert post("assign", permission_set_id=extra.id).endswith("?done=assigned")
    got = directory.store.get_user(user.id)
    assert got is not None and got.permission_set_ids == (extra.id,)
    post("unassign", permission_set_id=extra.id)
    got = directory.store.get_user(user.id)
    assert got is not None and got.permission_set_ids == ()
    assert audit_actions(admin) == ["PermSetAssign", "PermSetUnassign", "activateduser",
                                    "deactivateduser", "unlockeduser"]


def test_an_admin_cannot_deactivate_themselves(admin: World) -> None:
    page = admin.client.get(f"/setup/users/{admin.user.id}").text
    assert 'id="deactivate"' not in page
    refused = admin.client.post(f"/setup/users/{admin.user.id}/active",
                                data={"csrf_token": forms(page)[-1].fields["csrf_token"],
                                      "active": "0"})
    assert refused.status_code == 400 and "cannot deactivate your own user" in refused.text
    assert admin.services.directory.store.get_user(admin.user.id).active  # type: ignore[union-attr]


# -- logs ---------------------------------------------------------------------------------------

def test_setup_audit_trail_pages_sorts_and_downloads_csv(admin: World) -> None:
    directory = admin.services.directory
    for n in range(55):
        directory.record(admin.org.id, "changeduser", "Manage Users", f"change {n:02d}")
    directory.record(admin.org.id, "changeduser", "Manage Users", "=HYPERLINK(\"x\")")
    first = admin.client.get("/setup/audit")
    assert first.status_code == 200 and first.text.count("<tr><td>") == 50
    assert "page 1 of 2" in first.text
    total = len(admin.services.directory.store.list_setup_changes(admin.org.id))
    assert admin.client.get("/setup/audit?page=2").text.count("<tr><td>") == total - 50
    download = admin.client.get("/setup/audit?format=csv")
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    lines = download.text.splitlines()
    assert lines[0] == "CreatedDate,CreatedBy,Action,Section,Display,CreatedByContext"
    assert "'=HYPERLINK" in download.text and ",=HYPERLINK" not in download.text


def test_login_history_filters_by_user_and_status_and_downloads_csv(admin: World) -> None:
    password_login(admin, admin.user.username, "wrong")
    everyone = admin.client.get("/setup/logins").text
    assert "Invalid Password" in everyone and "Success" in everyone
    failed = admin.client.get("/setup/logins", params={"status": "failed",
                                                       "user": admin.user.username}).text
    assert "Invalid Password" in failed and "<td>Success</td>" not in failed
    bad = admin.client.get("/setup/logins", params={"since": "yesterday"})
    assert bad.status_code == 400 and 'id="since-error"' in bad.text
    download = admin.client.get("/setup/logins", params={"format": "csv", "status": "success"})
    assert download.text.splitlines()[0].startswith("LoginTime,Username,Status")
    assert "Invalid Password" not in download.text and "Success" in download.text


# -- profiles -------------------------------------------------------------------------------------

def test_edit_a_profiles_object_permissions_and_the_api_enforces_them(admin: World,
                                                                       clock: Any) -> None:
    admin.services.directory.create_user(admin.org.id, "std@acme.test", "Std-Pass-1",
                                         "Standard User", security_token="TOK")
    issued = admin.token(grant_type="password", client_id=admin.app.consumer_key,
                         client_secret=SECRET, username="std@acme.test",
                         password="Std-Pass-1TOK").json()  # type: ignore[attr-defined]
    bearer = {"Authorization": f"Bearer {issued['access_token']}"}
    account = {"Name": "Before"}
    assert admin.client.post("/services/data/v62.0/sobjects/Account", json=account,
                             headers=bearer).status_code == 201
    profile = admin.services.directory.store.find_profile(admin.org.id, "Standard User")
    assert profile is not None
    page = admin.client.get(f"/setup/profiles/{profile.id}").text
    assert 'name="Account:create" id="Account-create" value="1" aria-label="Account Create" checked' \
        in page
    form = next(f for f in forms(page) if f.action == f"/setup/profiles/{profile.id}")
    # Keep every right the page shows checked except Account's create (the parser cannot see
    # "checked", so the test names what stays).
    keep = {f"{o}:{p}": "1" for o, rights in profile.objects.grants.items() for p in rights
            if (o, p) != ("Account", "create")}
    done = admin.client.post(form.action, follow_redirects=False, data={
        "csrf_token": form.fields["csrf_token"], "api_enabled": "1", **keep,
        "login_ip_ranges": ""})
    assert done.status_code == 303
    saved = admin.services.directory.store.get_profile(profile.id)
    assert saved is not None and saved.objects.grants["Account"] == frozenset(
        {"read", "edit", "delete"})
    clock.advance(2)  # past the caches' one-second bound
    refused = admin.client.post("/services/data/v62.0/sobjects/Account", json=account,
                                headers=bearer)
    assert refused.status_code == 403
    assert refused.json()[0]["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
    assert audit_actions(admin) == ["profileChanged"]
    bad = admin.client.post(form.action, data={"csrf_token": form.fields["csrf_token"],
                                               "login_ip_ranges": "10.0.0.9-10.0.0.1"})
    assert bad.status_code == 400 and 'id="login_ip_ranges-error"' in bad.text
    assert "10.0.0.9-10.0.0.1" in bad.text


# -- org settings and API usage -------------------------------------------------------------------

def test_org_settings_block_the_password_flow_and_set_sharing_defaults(admin: World) -> None:
    page = admin.client.get("/setup/org").text
    form = next(f for f in forms(page) if f.action == "/setup/org")
    levels = {k: v for k, v in form.fields.items() if k.startswith("sharing:")}
    assert "sharing:Account" in page and 'id="username_password_flow"' in page
    done = admin.client.post("/setup/org", follow_redirects=False, data={
        "csrf_token": form.fields["csrf_token"], **levels, "sharing:Account": "Private"})
    assert done.status_code == 303 and done.headers["location"] == "/setup/org?done=saved"
    org = admin.services.directory.store.get_org(admin.org.id)
    assert org is not None and not org.username_password_flow
    assert org.sharing.level("Account") == "Private"
    assert password_login(admin, admin.user.username, PASSWORD + "TOKEN123") == 400
    assert audit_actions(admin) == ["changedOAuthUsernamePasswordFlow", "changedSharingDefault"]
    bad = admin.client.post("/setup/org", data={"csrf_token": form.fields["csrf_token"],
                                                "username_password_flow": "1",
                                                "sharing:Contact": "Everyone"})
    assert bad.status_code == 400 and "is not one of" in bad.text


def test_api_usage_counts_the_last_day_per_app_and_user(admin: World) -> None:
    issued = admin.token(grant_type="password", client_id=admin.app.consumer_key,
                         client_secret=SECRET, username=admin.user.username,
                         password=PASSWORD + "TOKEN123").json()  # type: ignore[attr-defined]
    for _ in range(3):
        admin.client.get("/services/data/v62.0/sobjects",
                         headers={"Authorization": f"Bearer {issued['access_token']}"})
    admin.services.audit.writer.flush()
    page = admin.client.get("/setup/api-usage").text
    assert "API requests, last 24 hours: 3 of 15000" in page
    by_app = page.split('id="by-app"')[1].split("</table>")[0]
    assert "<td class=\"wrap\">Acme Integration</td><td>3</td>" in by_app
    assert f"<td class=\"wrap\">{admin.user.username}</td><td>3</td>" in page


def test_the_users_and_app_manager_lists_page_by_50(admin: World) -> None:
    directory = admin.services.directory
    for n in range(55):
        directory.store.save_user(replace(admin.user, id=ids.new_id("005"),
                                          username=f"bulk{n:02d}@acme.test"))
        directory.store.save_app(replace(admin.app, id=ids.new_id("0H4"), name=f"App {n:02d}",
                                         consumer_key=f"3MVG9paging{n:02d}"))
    for path, marker in (("/setup/users", "/setup/users/005"), ("/setup/apps", "/setup/apps/0H4")):
        first = admin.client.get(path).text
        assert "page 1 of 2" in first and 'rel="next"' in first and "Download CSV" not in first
        second = admin.client.get(f"{path}?page=2").text
        assert "page 2 of 2" in second and 'rel="prev"' in second
        listed = first.count(f'<a href="{marker}') + second.count(f'<a href="{marker}')
        assert first.count(f'<a href="{marker}') == 50, path
        assert listed >= 55, path


# -- new profiles and permission sets -------------------------------------------------------------

def test_new_profile_clones_an_existing_one(admin: World) -> None:
    store = admin.services.directory.store
    read_only = store.find_profile(admin.org.id, "Read Only")
    assert read_only is not None
    page = admin.client.get("/setup/profiles/new").text
    assert 'id="clone_of"' in page and "Standard User" in page
    taken = submit(admin.client, page, name="read only", clone_of=read_only.id)
    assert taken.status_code == 400 and 'id="name-error">name: a profile named' in taken.text
    assert 'value="read only"' in taken.text
    empty = submit(admin.client, page, name="  ", clone_of=read_only.id)
    assert empty.status_code == 400 and 'id="name-error">name: required' in empty.text
    foreign = submit(admin.client, page, name="Auditors", clone_of="00e000000000000AAA")
    assert foreign.status_code == 400 and 'id="clone_of-error"' in foreign.text
    done = submit(admin.client, page, name="Auditors", clone_of=read_only.id)
    assert done.status_code == 303
    made = store.find_profile(admin.org.id, "Auditors")
    assert made is not None
    assert done.headers["location"] == f"/setup/profiles/{made.id}?done=created"
    assert made.objects == read_only.objects and made.api_enabled and not made.standard
    assert made.id != read_only.id
    assert "Created." in admin.client.get(done.headers["location"]).text
    assert audit_actions(admin) == ["profileCreate"]
    trail = [c.display for c in store.list_setup_changes(admin.org.id)
             if c.action == "profileCreate"]
    assert trail == ["Created profile Auditors (cloned from Read Only)"]


def test_new_permission_set_with_label_and_api_name(admin: World) -> None:
    store = admin.services.directory.store
    page = admin.client.get("/setup/permission-sets/new").text
    bad = submit(admin.client, page, label="Deleters", api_name="2_bad__name_")
    assert bad.status_code == 400 and 'id="api_name-error">api_name:' in bad.text
    assert "must begin with a letter" in bad.text and 'value="2_bad__name_"' in bad.text
    no_label = submit(admin.client, page, label="", api_name="")
    assert no_label.status_code == 400 and 'id="label-error">label: required' in no_label.text
    done = submit(admin.client, page, label="Account deleters (EU)", api_name="")
    assert done.status_code == 303
    made = store.find_permission_set(admin.org.id, "Account_deleters_EU")
    assert made is not None and made.label == "Account deleters (EU)"
    assert not made.api_enabled and made.objects.grants == {}
    listing = admin.client.get("/setup/profiles").text
    assert "<td>Account_deleters_EU</td>" in listing and "Account deleters (EU)" in listing
    again = submit(admin.client, page, label="Other", api_name="account_deleters_eu")
    assert again.status_code == 400 and "already exists" in again.text
    assert audit_actions(admin) == ["PermSetCreate"]
    # The data API serves the label as PermissionSet.Label.
    token = admin.token(grant_type="password", client_id=admin.app.consumer_key,
                        client_secret=SECRET, username=admin.user.username,
                        password=PASSWORD + "TOKEN123").json()["access_token"]  # type: ignore[attr-defined]
    rows = admin.client.get("/services/data/v62.0/query", params={
        "q": "SELECT Name, Label FROM PermissionSet WHERE Name = 'Account_deleters_EU'"},
        headers={"Authorization": f"Bearer {token}"}).json()["records"]
    assert [(r["Name"], r["Label"]) for r in rows] == [("Account_deleters_EU",
                                                         "Account deleters (EU)")]


def test_new_profile_and_permission_set_forms_are_guarded(world: World) -> None:
    world.services.directory.create_user(world.org.id, "std2@acme.test", PASSWORD,
                                         "Standard User")
    log_in(world.client, "std2@acme.test")
    for path in ("/setup/profiles/new", "/setup/permission-sets/new"):
        assert world.client.get(path).status_code == 403
        assert world.client.post(path, data={"name": "X", "label": "X"}).status_code == 403
    world.client.cookies.clear()
    log_in(world.client, world.user.username)
    page = world.client.get("/setup/permission-sets/new").text
    fields = next(f for f in forms(page) if f.action == "/setup/permission-sets/new").fields
    for token in (None, "0" * 64):
        data = {**{k: v for k, v in fields.items() if k != "csrf_token"}, "label": "Forged"}
        if token:
            data["csrf_token"] = token
        assert world.client.post("/setup/permission-sets/new", data=data).status_code == 403
    assert world.services.directory.store.find_permission_set(world.org.id, "Forged") is None

