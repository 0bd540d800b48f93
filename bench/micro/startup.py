"""Start-up time and worker memory of ``localforce serve``, warm restarts only.

    .venv/bin/python bench/micro/startup.py [--restarts 5] [--workers 2] [--src DIR]
                                            [--database-url postgresql://.../<empty db>]

Starts ``localforce serve --workers N --seed ...`` as the harness does (bench/benchlib/org.py)
on a temporary SQLite home (or the empty database ``--database-url`` names): one cold start to
create the store, then ``--restarts`` warm ones.
For each it prints the seconds from spawn to the first 200 on /healthz, then the workers' RSS
after 20 requests to /services/data.
``--src`` runs another checkout's ``src`` (e.g. a ``git worktree`` of the previous commit) with
the same interpreter, for an A/B on the same minute. The real figures come from ``make bench``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib.org import Org, localforce_server  # noqa: E402
from benchlib.procs import free_port, http_status, rss_kib, running  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--src", type=Path, default=None)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="lf-startup-"))
    seed = workdir / "seed.toml"
    seed.write_text(Org.generate().seed_toml())
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    server = localforce_server(workdir, url, seed, free_port(), args.workers)
    if args.src is not None:
        server.env["PYTHONPATH"] = str(args.src.resolve())
    starts, rss = [], []
    for i in range(args.restarts + 1):
        with running(server) as s:
            for _ in range(20):
                http_status(s.base_url + "/services/data")
            worker_rss = max(rss_kib(pid) for pid in s.workers()) / 1024
        label = "cold" if i == 0 else "warm"
        print(f"{label}: first 200 after {s.startup_s:.2f} s, worker RSS {worker_rss:.1f} MiB",
              flush=True)
        if i:
            starts.append(s.startup_s or 0.0)
            rss.append(worker_rss)
    print(f"warm median: first 200 {statistics.median(starts):.2f} s, "
          f"worker RSS {statistics.median(rss):.1f} MiB")


if __name__ == "__main__":
    main()
