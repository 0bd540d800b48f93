"""``localforce.client`` imports without the server: no Starlette, SQLAlchemy, uvicorn, pydantic
or server package comes with it (a fresh interpreter, so nothing was imported before)."""

from __future__ import annotations

import subprocess
import sys

SERVER = ("starlette", "sqlalchemy", "uvicorn", "pydantic", "localforce.web", "localforce.oauth",
          "localforce.data", "localforce.storage", "localforce.bootstrap")


def test_the_sdk_imports_alone() -> None:
    code = ("import sys, localforce.client, localforce.client.cache, localforce.client.device, "
            "localforce.client.loopback; print(sorted({m.split('.')[0] if not "
            "m.startswith('localforce') else m for m in sys.modules}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert "httpx" in loaded
    for name in SERVER:
        assert f"'{name}'" not in loaded
