"""A scripted user at the authorize pages: log in, allow, and hand the code to the callback.

Used in-process (``authorize(url, ...)`` returns the callback URL with ``code``) and as the sf
CLI's ``$BROWSER`` (``python browser.py URL``: logs in with ``LF_TEST_USERNAME`` /
``LF_TEST_PASSWORD``, trusting ``LF_TEST_CA``, then GETs the callback on localhost:1717 the
way a real browser's redirect would). Forms are filled from their own fields, so the CSRF
token and hidden OAuth parameters travel as in a browser.
"""

from __future__ import annotations

import os
import sys
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, str] = {}
        self._in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action, self._in_form = a.get("action", ""), True
        elif self._in_form and tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")
        elif self._in_form and tag == "button" and a.get("name"):
            self.buttons.setdefault(a["name"], a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False


def authorize(url: str, username: str, password: str, callback_prefix: str,
              verify: str | bool = True) -> str:
    """Walk from the authorize URL through login and consent to the redirect; its URL."""
    with httpx.Client(verify=verify, trust_env=False, timeout=30) as client:
        response = client.get(url)
        for _ in range(10):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith(callback_prefix):
                    return location
                response = client.get(location)
                continue
            form = _Form()
            form.feed(response.text)
            if response.status_code != 200 or form.action is None:
                raise AssertionError(f"no form at {response.url} ({response.status_code}):\n"
                                     f"{response.text[:2000]}")
            data = dict(form.fields)
            if "username" in data:
                data.update(username=username, password=password)
            if "_action" in form.buttons:  # consent: Allow is the first button
                data["_action"] = "allow"
            response = client.post(urljoin(str(response.url), form.action), data=data)
    raise AssertionError("too many steps between authorize and the callback")


def main() -> None:
    url = sys.argv[1]
    location = authorize(url, os.environ["LF_TEST_USERNAME"], os.environ["LF_TEST_PASSWORD"],
                         "http://localhost:1717/", os.environ.get("LF_TEST_CA") or True)
    # sf answers with a redirect to its success page and waits for that request too.
    httpx.get(location, trust_env=False, timeout=30, follow_redirects=True)


if __name__ == "__main__":
    main()
