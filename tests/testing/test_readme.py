"""The README's "Python SDK" and "Use it in your tests" code blocks, run against a test org."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import pytest

from localforce.testing import Org

pytestmark = pytest.mark.clients

README = (Path(__file__).parents[2] / "README.md").read_text()


def python_blocks(section: str) -> list[str]:
    body = README.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


@pytest.fixture
def trusting(localforce_org: Org, monkeypatch: pytest.MonkeyPatch) -> Org:
    """httpx (the SDK's default client) trusts the org's CA by SSL_CERT_FILE, as the README
    says; no proxy for a loopback server."""
    monkeypatch.setenv("SSL_CERT_FILE", str(localforce_org.ca))
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    return localforce_org


def test_the_python_sdk_section_runs(trusting: Org) -> None:
    blocks = python_blocks("Python SDK")
    assert len(blocks) == 3
    namespace: dict[str, Any] = {"CONSUMER_KEY": trusting.app.consumer_key,
                                 "CONSUMER_SECRET": trusting.app.consumer_secret}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in blocks:
            code = block.replace('"https://login.salesforce.com"', repr(trusting.login_url))
            exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    lines = printed.getvalue().splitlines()
    assert lines[-5].endswith("'Name': 'Acme', 'Industry': 'Energy'}")
    assert lines[-4].startswith("{'api-usage': (")
    assert lines[-3] == "404 NOT_FOUND None"
    assert lines[-2].startswith("INVALID_FIELD")
    assert lines[-1] == "['Acme']"


def test_the_use_it_in_your_tests_section_runs(localforce_org: Org) -> None:
    blocks = python_blocks("Use it in your tests")
    assert len(blocks) == 1
    namespace: dict[str, Any] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102
    tests = [f for name, f in namespace.items() if name.startswith("test_")]
    assert len(tests) == 4
    for test in tests:  # each as pytest would: on an org reset to its seed
        localforce_org.reset()
        test(localforce_org)
