"""CPU per request of the token and introspection endpoints, in process (no server, no wrk).

    .venv/bin/python bench/micro/token_cpu.py [--n 500]

Builds the app with ``bootstrap.build`` + ``web.app.create_app`` on a temporary SQLite home
seeded with the bench org (bench/benchlib/org.py), then drives N requests per scenario through
Starlette's TestClient and prints the process CPU time per request. For quick before/after
comparisons of one change; the real figures come from ``make bench``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lf-micro-"))
    os.environ.update(LOCALFORCE_HOME=str(home), LOCALFORCE_TOKEN_RATE_PER_IP_MINUTE="0",
                      LOCALFORCE_LOGIN_RATE_PER_USER_HOUR="0",
                      LOCALFORCE_DAILY_API_REQUESTS="1000000000")
    from benchlib.org import USERNAME, Org
    from starlette.testclient import TestClient

    from localforce.bootstrap import build
    from localforce.directory.seed import apply_seed, load_file
    from localforce.settings import Settings
    from localforce.web.app import create_app

    org = Org.generate()
    seed = home / "seed.toml"
    seed.write_text(org.seed_toml())
    services = build(Settings())
    apply_seed(services.directory, load_file(seed))
    client = TestClient(create_app(services), base_url="https://localhost")
    cc = {"grant_type": "client_credentials", **org.app.client_body()}
    token = client.post("/services/oauth2/token", data=cc).json()["access_token"]
    scenarios = {
        "client_credentials": ("/services/oauth2/token", cc),
        "introspection": ("/services/oauth2/introspect",
                          {"token": token, **org.app.client_body()}),
        "password": ("/services/oauth2/token",
                     {"grant_type": "password", "username": USERNAME,
                      "password": org.password + org.security_token, **org.app.client_body()}),
    }
    with client:
        for name, (path, body) in scenarios.items():
            if args.only and name not in args.only.split(","):
                continue
            n = args.n // 10 if name == "password" else args.n
            answer = client.post(path, data=body)
            assert answer.status_code == 200, answer.text
            start = time.process_time()
            for _ in range(n):
                client.post(path, data=body)
            cpu = (time.process_time() - start) / n * 1000
            print(f"{name:20s} {cpu:7.3f} ms CPU/request  (n={n})")
    services.close()


if __name__ == "__main__":
    main()
