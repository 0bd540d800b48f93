"""Log redaction: secret-named keys and credential-shaped values never reach a log line."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from localforce.web.logging import _CREDENTIAL, REDACTED, _masked, configure_logging, mask, redact

SESSION = "00D5g000004SfmE!AQ4AQH0dMHZfz972Szy4gS.qS9xRJ3kPQ"
REFRESH = "5Aep861KIwKdekr90I4iHdtDgWwRoG7O_6uHrgJ.yVtMS-UmGwRH9f6XCvA_RnmK"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl"


def test_mask_credential_shapes() -> None:
    for secret in (SESSION, REFRESH, JWT):
        assert secret not in mask(f"value {secret} here")
    assert "abc123" not in mask("Authorization: Bearer abc123")
    assert "hunter2" not in mask("grant_type=password&password=hunter2&username=u")
    assert "xyz" not in mask("/services/oauth2/revoke?token=xyz")
    assert mask("GET /services/data/v59.0/limits 200") == "GET /services/data/v59.0/limits 200"


def test_redact_processor_drops_secret_keys() -> None:
    event = redact(None, "info", {"event": "x", "client_secret": "s", "password": "p",
                                  "code_verifier": "v", "status": 200, "note": SESSION})
    assert event["client_secret"] == event["password"] == event["code_verifier"] == REDACTED
    assert event["status"] == 200 and SESSION not in event["note"]


def test_structlog_and_stdlib_lines_are_masked() -> None:
    out = io.StringIO()
    configure_logging(stream=out)
    try:
        structlog.get_logger("t").info("issued", access_token=SESSION, path="/x")
        logging.getLogger("uvicorn.error").info("token %s", REFRESH)
        try:
            raise ValueError(f"bad assertion {JWT}")
        except ValueError:
            logging.getLogger("localforce.web").exception("failed")
        text = out.getvalue()
        for secret in (SESSION, REFRESH, JWT):
            assert secret not in text
        first = json.loads(text.splitlines()[0])
        assert first["access_token"] == REDACTED and first["path"] == "/x"
        assert "ValueError" in text  # the traceback survives, masked
    finally:
        structlog.reset_defaults()
        for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
            logger = logging.getLogger(name)
            logger.handlers, logger.propagate, logger.disabled = [], name == "", False


def test_the_access_line_is_structlogs_line() -> None:
    from localforce.web.logging import access_line

    fields = {"method": "GET", "path": f"/services/oauth2/revoke/{SESSION}", "status": 200,
              "duration_ms": 1.25, "client_ip": "203.0.113.9"}
    out = io.StringIO()
    configure_logging(stream=out)
    try:
        access_line(dict(fields))
        structlog.get_logger("localforce.access").info("request", **fields)
    finally:
        configure_logging()
    ours, theirs = (json.loads(line) for line in out.getvalue().splitlines())
    assert SESSION not in out.getvalue()
    assert list(ours) == list(theirs)  # the same keys in the same order
    assert ours.pop("timestamp")[:16] == theirs.pop("timestamp")[:16]
    assert ours == theirs


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(
    ["0", "D", "5Aep861", "00D", "eyJ", "=", " ", "\t", "\u2003", "\x85", "a", "Z", ".", "!",
     "_", "-", "/", "token", "Bearer", "oauth", "password", "é"]), max_size=30).map("".join)
       | st.text(max_size=40))
def test_the_quick_check_never_skips_a_credential(text: str) -> None:
    """``mask`` skips the regex for text its shapes cannot match: held to the regex itself."""
    assert mask(text) == _CREDENTIAL.sub(_masked, text)


def test_the_timestamp_is_structlogs_iso_format(monkeypatch: pytest.MonkeyPatch) -> None:
    import localforce.web.logging as logs

    for ns, expected in ((1_764_850_000_123_456_789, "2025-12-04T12:06:40.123456Z"),
                         (1_764_850_000_000_000_999, "2025-12-04T12:06:40Z"),
                         (1_764_850_001_000_001_000, "2025-12-04T12:06:41.000001Z")):
        monkeypatch.setattr(logs.time, "time_ns", lambda ns=ns: ns)
        assert logs._utc_now_iso() == expected
        at = dt.datetime.fromtimestamp(ns // 1000 / 1e6, tz=dt.UTC)
        assert expected == at.isoformat().replace("+00:00", "Z")


def test_access_lines_on_a_loop_are_written_once_its_pass_has_run() -> None:
    from localforce.web.logging import access_line

    class Out(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            Out.writes += 1
            return super().write(text)

    out = Out()
    configure_logging(stream=out)

    async def requests() -> str:
        for n in range(3):
            access_line({"method": "GET", "path": f"/p{n}", "status": 200})
        held = out.getvalue()
        await asyncio.sleep(0)  # the loop's next pass
        return held

    try:
        held = asyncio.run(requests())
    finally:
        configure_logging()
    assert held == ""
    assert [json.loads(line)["path"] for line in out.getvalue().splitlines()] == \
        ["/p0", "/p1", "/p2"]
    assert Out.writes == 1
