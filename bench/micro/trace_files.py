"""Which files of ``src`` run during one request, after warm-up (issue #22's "≤ 12 files").

    .venv/bin/python bench/micro/trace_files.py [--scenario client_credentials] [--warm 200]

Builds the app as ``token_cpu.py`` does (SQLite, the bench org), answers ``--warm`` requests,
then traces one more with ``sys.setprofile`` on every thread (the event loop's and the
group-commit writer's) until the answer is sent and the loop has run what the request left
queued (the group commit on the loop), and prints each file of ``src/localforce`` that ran,
with how many Python functions of it were called.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="client_credentials",
                        choices=["client_credentials", "introspection"])
    parser.add_argument("--warm", type=int, default=200)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lf-trace-"))
    os.environ.update(LOCALFORCE_HOME=str(home), LOCALFORCE_PUBLIC_URL="http://testserver")
    from asgi import bench_app, call, first_grant

    import localforce

    services, app, org = bench_app(home)
    loop = asyncio.new_event_loop()
    cc, token = loop.run_until_complete(first_grant(app, org))
    path, form = "/services/oauth2/token", cc
    if args.scenario == "introspection":
        path = "/services/oauth2/introspect"
        form = {"token": token, **org.app.client_body()}
    body = urlencode(form).encode()
    for _ in range(args.warm):
        loop.run_until_complete(call(app, "POST", path, body=body))

    root = str(Path(localforce.__file__).parent) + os.sep
    calls: collections.Counter[str] = collections.Counter()

    def profile(frame: Any, event: str, _arg: Any) -> None:
        if event == "call" and frame.f_code.co_filename.startswith(root):
            calls[frame.f_code.co_filename[len(root):]] += 1

    async def one() -> tuple[int, bytes]:
        answer = await call(app, "POST", path, body=body)
        for _ in range(3):  # what the request queued with call_soon (the loop's group commit)
            await asyncio.sleep(0)
        return answer

    threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        status, answer = loop.run_until_complete(one())
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    assert status == 200, answer
    services.close()
    print(f"{args.scenario}: {len(calls)} files of src/localforce, "
          f"{sum(calls.values())} function calls")
    for name, count in sorted(calls.items()):
        print(f"  {name:45s} {count:4d}")


if __name__ == "__main__":
    main()
