"""The browser step over plain HTTP (clients.md §6): read a page's form, fill it, submit it.

Shared by the flow tests and the client tests, which log in and approve the way a person would
but without a browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Protocol


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, list[str]] = field(default_factory=dict)


class _Parser(HTMLParser):
    """Inputs (every checkbox, checked or not: the tests pick theirs), a select's selected
    option (else its first, as a browser sends; a multiple select only a selected one), a
    textarea's text."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._option_text = False
        self._multiple = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag in ("input", "button") and a.get("name"):
            if tag == "button" or a.get("type") == "submit":
                self.forms[-1].buttons.setdefault(a["name"], []).append(a.get("value", ""))
            else:
                self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._multiple = "multiple" in a
        elif tag == "option" and self._select is not None:
            fields = self.forms[-1].fields
            first = self._select not in fields and not self._multiple
            if first or "selected" in a:
                fields[self._select] = a.get("value", "")
                self._option_text = "value" not in a  # the option's text is its value
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.forms[-1].fields[self._textarea] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.forms[-1].fields[self._textarea] += data
        elif self._option_text and self._select is not None:
            self.forms[-1].fields[self._select] += data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "option":
            self._option_text = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms(html: str) -> list[Form]:
    parser = _Parser()
    parser.feed(html)
    return parser.forms


class Client(Protocol):
    def post(self, url: str, **kwargs: Any) -> Any: ...


def submit(client: Client, html: str, button: tuple[str, str] | None = None,
           **values: str) -> Any:
    """Post the page's (first matching) form with ``values`` filled in, without following
    redirects. ``button`` picks a submit button by (name, value)."""
    candidates = [f for f in forms(html)
                  if button is None or button[1] in f.buttons.get(button[0], [])]
    assert candidates, f"no form with button {button} in page"
    form = candidates[0]
    data = {**form.fields, **values}
    if button is not None:
        data[button[0]] = button[1]
    return client.post(form.action, data=data, follow_redirects=False)


AUTHORIZE = "/services/oauth2/authorize"


def code_from(location: str) -> str:
    """The ``code`` parameter of a redirect to the client."""
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(location).query)["code"][0]


def log_in(client: Any, page: Any, username: str, password: str) -> Any:
    """Submit a login page; on success follow the 303 back to the authorize step (one GET)."""
    response = submit(client, page.text, username=username, password=password)
    if response.status_code == 303 and response.headers["location"].startswith("/"):
        return client.get(response.headers["location"], follow_redirects=False)
    return response
