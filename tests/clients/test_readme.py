"""Every ``curl`` line in README.md, run by real curl against a live server.

Commands come from the README's ``sh`` blocks (backslash continuations and multi-line quoted
strings joined). They run with the README's variables set to the live server's own (``$BASE``
and the demo-credential names ``$USERNAME``, ``$CONSUMER_KEY``..., ``$RT`` a refresh token),
``127.0.0.1:8080`` replaced by its address and ``<user id>`` by the user's id. Earlier
``NAME=$(curl ...)`` lines run first, so their values feed later lines. Each line must exit 0
with a non-error HTTP status (``--fail-with-body``).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from tests.clients.browser import authorize
from tests.clients.server import LiveServer

pytestmark = pytest.mark.clients

README = Path(__file__).parents[2] / "README.md"
ASSIGNMENT = re.compile(r"^\w+=\$\(curl ")


def commands(text: str) -> list[str]:
    out: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        buffer = ""
        for line in block.replace("\\\n", " ").splitlines():
            buffer = f"{buffer}\n{line}" if buffer else line
            try:
                shlex.split(buffer, comments=True)
            except ValueError:  # an open quote: the command goes on
                continue
            out.append(re.sub(r"\s+#[^'\"]*$", "", buffer.strip()))
            buffer = ""
    return [c for c in out if c.startswith("curl ") or ASSIGNMENT.match(c)]


LINES = commands(README.read_text())


def test_the_readme_has_curl_examples() -> None:
    assert len(LINES) >= 10


@pytest.fixture(scope="module")
def variables(live_server_http: LiveServer) -> dict[str, str]:
    server = live_server_http
    query = urlencode({"response_type": "code", "client_id": server.consumer_key,
                       "redirect_uri": server.callback, "scope": "api refresh_token"})
    callback = authorize(f"{server.url}/services/oauth2/authorize?{query}", server.username,
                         server.password, server.callback)
    with server.http() as client:
        tokens = client.post("/services/oauth2/token", data={
            "grant_type": "authorization_code", "client_id": server.consumer_key,
            "client_secret": server.consumer_secret, "redirect_uri": server.callback,
            "code": parse_qs(urlsplit(callback).query)["code"][0]}).json()
    return {"BASE": server.url, "ORG_ID": server.org_id, "USERNAME": server.username,
            "PASSWORD": server.password, "SECURITY_TOKEN": server.security_token,
            "CONSUMER_KEY": server.consumer_key, "CONSUMER_SECRET": server.consumer_secret,
            "RT": tokens["refresh_token"], "USER_ID": tokens["id"].rsplit("/", 1)[1]}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("index", range(len(LINES)), ids=[f"line{i}" for i in range(len(LINES))])
def test_readme_curl_example(live_server_http: LiveServer, variables: dict[str, str],
                             index: int) -> None:
    def adapt(line: str) -> str:
        return line.replace("127.0.0.1:8080", live_server_http.hostport).replace(
            "<user id>", variables["USER_ID"])

    setup = [adapt(line) for line in LINES[:index] if ASSIGNMENT.match(line)]
    command = adapt(LINES[index])
    script = "\n".join(["set -euo pipefail",
                        'curl() { command curl --fail-with-body -sS "$@"; }', *setup, command])
    result = subprocess.run(["bash", "-c", script], env=live_server_http.env(**variables),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    if not ASSIGNMENT.match(command) and "/revoke" not in command:  # RFC 7009: empty 200
        assert result.stdout.strip(), command
