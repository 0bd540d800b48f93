"""The data API's hot routes on the lean dispatcher (web/hotpath.py): the same answers as the
Starlette app behind it, and only the routes Starlette's router would give those handlers."""

from __future__ import annotations

from typing import Any

from starlette.types import Receive, Scope, Send
from tests.api.conftest import Api

#: The same endpoint through Starlette: the host alias is rewritten there, never taken here.
ALIAS = "/login.salesforce.com"


def spy(api: Api) -> list[str]:
    """The paths of the requests that reach Starlette from now on."""
    app, seen = api.client.app, []
    behind = app.app  # type: ignore[attr-defined]

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            seen.append(scope["path"])
        await behind(scope, receive, send)

    app.app = recording  # type: ignore[attr-defined]
    return seen


def both(api: Api, method: str, path: str, **kw: Any) -> tuple[Any, Any]:
    url = api.url(path)
    headers = {**api.headers, **kw.pop("headers", {})}
    return (api.client.request(method, url, headers=headers, **kw),
            api.client.request(method, ALIAS + url, headers=headers, **kw))


def same(lean: Any, slow: Any) -> None:
    """Status, headers and body; the usage count in ``Sforce-Limit-Info`` moved on by one."""
    def seen(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = [(k, v.partition("=")[0] if k == "sforce-limit-info" else v)
                   for k, v in response.headers.items()]
        return response.status_code, headers, response.content

    assert seen(lean) == seen(slow)


def test_reads_answer_as_starlette_does(api: Api) -> None:
    created = api.post("/sobjects/Account", {"Name": "Hot Path"}).json()["id"]
    seen = spy(api)
    for path, params in (("/query", {"q": "SELECT Id, Name FROM Account"}),
                         ("/queryAll/", {"q": "SELECT Id FROM Account"}),
                         ("/query", {"q": "SELECT Nope FROM Account"}),
                         (f"/sobjects/Account/{created}", {}),
                         ("/sobjects/Account/001000000000000AAA", {})):
        same(*both(api, "GET", path, params=params))
    lean, slow = (response.json() for response in both(api, "GET", "/limits"))
    assert lean.pop("DailyApiRequests")["Remaining"] == slow.pop("DailyApiRequests")[
        "Remaining"] + 1  # counted before the second call
    assert lean == slow
    assert all(path.startswith(ALIAS) for path in seen)  # the lean ones never reached it


def test_writes_are_served_here(api: Api) -> None:
    seen = spy(api)
    created = api.post("/sobjects/Account", {"Name": "Hot Path"})
    assert created.status_code == 201
    url = f"/sobjects/Account/{created.json()['id']}"
    assert api.patch(url, {"Name": "Renamed"}).status_code == 204
    assert api.get(url).json()["Name"] == "Renamed"
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert seen == []


def test_other_routes_and_methods_go_to_starlette(api: Api) -> None:
    seen = spy(api)
    api.get("/sobjects/Account/describe")  # first match in data.TABLE: describe, not retrieve
    api.get("/sobjects/Account")
    api.client.head(api.url("/limits"), headers=api.headers)
    api.client.put(api.url("/query"), headers=api.headers)
    assert seen == [api.url(p) for p in ("/sobjects/Account/describe", "/sobjects/Account",
                                         "/limits", "/query")]
