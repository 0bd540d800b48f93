"""Real headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright for Python; never
``playwright install``) against a real ``localforce serve`` and a local callback server.

Set up by ``scripts/test-setup.sh`` (``apt-get install chromium``). Without Chromium the tests
skip locally and fail in CI (``tests/conftest.py: missing_service``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.clients.server import LiveServer, free_port, stop_server, wait_until_healthy
from tests.conftest import missing_service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
USERNAME = "ada@browser.test"
PASSWORD = "Browser-Pass-1"
CONSUMER_KEY = "3MVG9browser.key"
CONSUMER_SECRET = "browser-secret-1"

SEED = """
[org]
name = "Browser"
my_domain = "browser"

[[users]]
username = "{username}"
password = "{password}"
profile = "System Administrator"
first_name = "Ada"
last_name = "Lovelace"

[[apps]]
name = "Browser App"
consumer_key = "{key}"
consumer_secret = "{secret}"
callback_urls = ["{callback}"]
scopes = ["api", "refresh_token", "web"]
enable_implicit = true
enable_device_flow = true
"""


@dataclass
class Callback:
    """A client's redirect endpoint on loopback; remembers the paths it was sent to."""

    url: str
    hits: list[str]


class _Handler(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.hits.append(self.path)
        body = b"<!doctype html><title>callback</title><p>Back at the app.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def callback() -> Iterator[Callback]:
    hits: list[str] = []
    handler = type("Handler", (_Handler,), {"hits": hits})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Callback(f"http://127.0.0.1:{httpd.server_address[1]}/cb", hits)
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser_server(tmp_path_factory: pytest.TempPathFactory,
                   callback: Callback) -> Iterator[LiveServer]:
    """``localforce serve`` over plain HTTP on loopback with the seed above."""
    folder = tmp_path_factory.mktemp("browser")
    (folder / "seed.toml").write_text(SEED.format(username=USERNAME, password=PASSWORD,
                                                  key=CONSUMER_KEY, secret=CONSUMER_SECRET,
                                                  callback=callback.url))
    port, home = free_port(), folder / "home"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LOCALFORCE_") and k.lower() not in ("http_proxy", "https_proxy")}
    env["LOCALFORCE_HOME"] = str(home)
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "localforce.cli.main", "serve", "--port", str(port),
             "--seed", str(folder / "seed.toml")],
            cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", home, log, None, folder / "none", process,
                        username=USERNAME, password=PASSWORD, consumer_key=CONSUMER_KEY,
                        consumer_secret=CONSUMER_SECRET, callback=callback.url)
    wait_until_healthy(server)
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Playwright's sync API runs an event loop in this thread while it is open: stop it at the
    end of each module, or later tests that run their own loop (anyio, asyncio.run) fail."""
    if not CHROMIUM.exists():
        missing_service(f"{CHROMIUM} is missing: run scripts/test-setup.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser profile (no cookies) per test, phone-sized."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()
