"""CPU per request of the token and introspection endpoints, in process (no server, no wrk).

    .venv/bin/python bench/micro/token_cpu.py [--n 2000] [--only client_credentials,...]
        [--profile NAME]

Builds the app with ``bootstrap.build`` + ``web.app.create_app`` on a temporary SQLite home
seeded with the bench org (bench/benchlib/org.py), drives N requests per scenario through its
ASGI interface (``micro/asgi.py``, one at a time) beside a bare Starlette form POST, and prints
the process CPU time per request. ``--profile NAME`` runs that scenario under pyinstrument.
For quick before/after comparisons of one change; the real figures come from ``make bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--only", default="")
    parser.add_argument("--profile", default="")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lf-micro-"))
    os.environ.update(LOCALFORCE_HOME=str(home), LOCALFORCE_TOKEN_RATE_PER_IP_MINUTE="0",
                      LOCALFORCE_LOGIN_RATE_PER_USER_HOUR="0",
                      LOCALFORCE_DAILY_API_REQUESTS="1000000000",
                      LOCALFORCE_PUBLIC_URL="http://testserver")
    from asgi import bench_app, cpu_ms, first_grant
    from benchlib.org import USERNAME
    from floor_app import create as floor_app

    services, app, org = bench_app(home)
    loop = asyncio.new_event_loop()
    cc, token = loop.run_until_complete(first_grant(app, org))
    scenarios: dict[str, tuple[str, dict[str, str] | str]] = {
        "client_credentials": ("/services/oauth2/token", cc),
        "jwt_bearer": ("/services/oauth2/token", org.jwt_body()),
        "introspection": ("/services/oauth2/introspect",
                          {"token": token, **org.app.client_body()}),
        "password": ("/services/oauth2/token",
                     {"grant_type": "password", "username": USERNAME,
                      "password": org.password + org.security_token, **org.app.client_body()}),
    }
    floor_ms = loop.run_until_complete(
        cpu_ms(floor_app(), args.n, "POST", "/token", body=urlencode(cc).encode()))
    print(f"floor.form_post      {floor_ms:7.3f} ms CPU/request")
    for name, (path, values) in scenarios.items():
        if args.only and name not in args.only.split(","):
            continue
        n = args.n // 20 if name == "password" else args.n
        body = (values if isinstance(values, str) else urlencode(values)).encode()
        if name == args.profile:
            from pyinstrument import Profiler
            with Profiler(interval=0.0001, async_mode="enabled") as profiler:
                loop.run_until_complete(cpu_ms(app, n, "POST", path, body=body))
            print(profiler.output_text(color=False, show_all=False))
        ms = loop.run_until_complete(cpu_ms(app, n, "POST", path, body=body))
        print(f"{name:20s} {ms:7.3f} ms CPU/request  ÷floor {floor_ms / ms:.3f}  (n={n})")
    services.close()


if __name__ == "__main__":
    main()
