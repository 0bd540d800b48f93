"""``Org.reset()`` of the pytest plugin (localforce.testing) on a seed of 1,000 Accounts.

    .venv/bin/python bench/micro/reset.py [--records 1000] [--runs 30]

Starts the org as the plugin does (``localforce serve --tls`` for tests, its own home), then
``--runs`` times: a test's worth of changes (create 20 Accounts, update 5, one new token), then
``reset()``. Prints the median and p90 of reset() as the test sees it (one HTTPS round trip
included) and as the server timed its restore. Budget (issue #13): 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from localforce.testing import start_org
from localforce.testing.seed import DEFAULT_SEED


def seed_with(records: int) -> str:
    rows = "".join(f'\n[[records.Account]]\nName = "Seeded {i:05}"\nAccountNumber = "A{i}"\n'
                   for i in range(records))
    return DEFAULT_SEED + rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        seed = Path(tmp) / "seed.toml"
        seed.write_text(seed_with(args.records))
        org = start_org(Path(tmp) / "org", seed, timeout=300)
        try:
            client, server = [], []
            with org.client() as session:
                count = session.query_all("SELECT COUNT() FROM Account")
                ids = [r["Id"] for r in session.query("SELECT Id FROM Account LIMIT 5")]
                for _ in range(args.runs):
                    session.create_many([{"attributes": {"type": "Account"}, "Name": f"T{i}"}
                                         for i in range(20)])
                    for record_id in ids:
                        session.update("Account", record_id, {"Name": "Changed"})
                    started = time.perf_counter()
                    answer = org.control("POST", "reset")
                    client.append((time.perf_counter() - started) * 1000)
                    server.append(float(answer["ms"]))
                    session._token = None  # its token went with the reset
                assert session.query_all("SELECT COUNT() FROM Account") == count
        finally:
            org.stop()
    for name, values in (("reset() at the test", client), ("restore at the server", server)):
        values.sort()
        print(f"{name:24} median {statistics.median(values):6.2f} ms   "
              f"p90 {values[int(len(values) * 0.9) - 1]:6.2f} ms   max {values[-1]:6.2f} ms")
    print(f"({args.records} seeded Accounts, {args.runs} runs; budget 50 ms)")


if __name__ == "__main__":
    main()
