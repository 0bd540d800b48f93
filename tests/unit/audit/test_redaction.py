"""Log redaction: secret-named keys and credential-shaped values never reach a log line."""

from __future__ import annotations

import io
import json
import logging

import structlog

from localforce.web.logging import REDACTED, configure_logging, mask, redact

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
