"""No token leaves the token endpoint before its row is committed (web/middleware.py
``CommitBeforeAnswer``, storage/sql/group_commit.py): the answer waits for the group commit,
and a failed commit is a 500 with no token in it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import event, func, select
from starlette.testclient import TestClient
from tests.flows.conftest import KEY, SECRET, World
from tests.storage.test_group_commit import GatedInserts, inserts_tokens, token_count

from localforce.storage.sql import tables as t
from localforce.web.app import create_app

CC = {"grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET}


def test_the_answer_waits_for_the_token_commit(world: World) -> None:
    engine = world.services.engine
    before = token_count(engine)
    gated = GatedInserts(engine)
    try:
        with ThreadPoolExecutor(max_workers=1) as background:
            answer = background.submit(world.token, **CC)
            assert gated.reached.wait(10), "the grant never handed its token to the writer"
            assert not answer.done()  # computed, not committed: not answered
            assert token_count(engine) == before
            gated.release()
            response = answer.result(10)
        assert response.status_code == 200, response.text  # type: ignore[attr-defined]
        assert token_count(engine) == before + 1
    finally:
        gated.remove()


def test_a_failed_commit_is_a_500_without_a_token(world: World) -> None:
    engine = world.services.engine

    def refuse_tokens(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if inserts_tokens(statement):
            raise RuntimeError("disk full")

    event.listen(engine, "before_cursor_execute", refuse_tokens)
    try:
        with TestClient(create_app(world.services), raise_server_exceptions=False,
                        client=("127.0.0.1", 50000)) as client:
            response = client.post("/services/oauth2/token", data=CC)
        assert response.status_code == 500
        assert "access_token" not in response.text
    finally:
        event.remove(engine, "before_cursor_execute", refuse_tokens)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(t.tokens)).scalar_one() == 0
