"""The token endpoint itself: how parameters arrive, unknown grants, response headers."""

from __future__ import annotations

from collections.abc import Iterator

from tests.flows.conftest import KEY, SECRET, World

UNSUPPORTED = {"error": "unsupported_grant_type", "error_description": "grant type not supported"}


def test_multipart_body(world: World) -> None:
    response = world.client.post("/services/oauth2/token", files={
        "grant_type": (None, "client_credentials"), "client_id": (None, KEY),
        "client_secret": (None, SECRET)})
    assert response.status_code == 200, response.text


def test_query_string_of_a_post(world: World) -> None:
    response = world.client.post(
        f"/services/oauth2/token?grant_type=client_credentials&client_id={KEY}"
        f"&client_secret={SECRET}")
    assert response.status_code == 200, response.text


def test_chunked_body_without_content_length(world: World) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"grant_type=client_credentials&client_id=" + KEY.encode()
        yield b"&client_secret=" + SECRET.encode()

    response = world.client.post("/services/oauth2/token", content=chunks(), headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text


def test_unknown_parameters_are_ignored(world: World) -> None:
    response = world.token(grant_type="client_credentials", client_id=KEY, client_secret=SECRET,
                           code_verifier="x" * 171, redirect_uri="https://x", format="json")
    assert response.status_code == 200


def test_unknown_grant_type(world: World) -> None:
    response = world.token(grant_type="urn:example:nope", client_id=KEY)
    assert (response.status_code, response.json()) == (400, UNSUPPORTED)
    assert "no-store" in response.headers["cache-control"]


def test_missing_grant_type_and_unread_content_type(world: World) -> None:
    assert world.token(client_id=KEY).json() == UNSUPPORTED
    response = world.client.post("/services/oauth2/token",
                                 json={"grant_type": "client_credentials"})
    assert (response.status_code, response.json()) == (400, UNSUPPORTED)


def test_get_is_refused(world: World) -> None:
    response = world.client.get("/services/oauth2/token?grant_type=client_credentials")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request",
                               "error_description": "must use HTTP POST"}


def test_success_is_not_cacheable_and_has_no_expires_in(world: World) -> None:
    response = world.token(grant_type="client_credentials", client_id=KEY, client_secret=SECRET)
    assert "no-store" in response.headers["cache-control"]
    assert response.headers["pragma"] == "no-cache"
    assert "expires_in" not in response.json()


def test_a_form_the_parser_refuses_is_an_oauth_error_not_plain_text(world) -> None:  # type: ignore[no-untyped-def]
    """Issue #16: 1,001+ form fields answered Starlette's plain-text 400."""
    body = "grant_type=password&" + "&".join(f"f{i}=x" for i in range(1500))
    for path in ("/services/oauth2/token", "/services/oauth2/introspect",
                 "/services/oauth2/revoke"):
        r = world.client.post(path, content=body,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert (r.status_code, r.json()) == (400, {
            "error": "invalid_request",
            "error_description": "Too many fields. Maximum number of fields is 1000."}), path
