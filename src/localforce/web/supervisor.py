"""What ``localforce serve`` becomes once its options are read and the store's preparation has
started (cli/serve.py): the same process — same pid, same children — exec'd afresh, which
imports the workers' app while the child prepares the store, waits for that child, and serves.

Exec'd rather than carried on, because granian forks its workers from this process and a
worker starts with whatever its parent has imported: the command line's process holds Typer
(and pydantic, which Typer parses options with), Rich and the commands, none of which a worker
uses; this process holds the app (bench/README.md, seventeenth pass). The command line
imports little before it execs (cli/main.py imports a command's module when it runs), and
this process imports the app on one core while the store is prepared on the other.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NoReturn

from localforce.web import servers

#: The plan, from ``become`` to ``main`` (removed from the environment before any worker).
PLAN_ENV = "LOCALFORCE_SERVE_PLAN"
#: The command line's import path (``sys.path``), from ``become`` to ``_MAIN``.
PATH_ENV = "LOCALFORCE_SERVE_PATH"
#: What the exec'd interpreter runs: the command line's own import path, then ``main``. Run
#: with ``-P``, so that nothing is imported from the current directory on the way (``-c``
#: puts it first: a ``json.py`` there was run by ``localforce serve``).
_MAIN = (f"import json, os, sys; sys.path[:] = json.loads(os.environ.pop({PATH_ENV!r})); "
         "from localforce.web.supervisor import main; main()")


@dataclass(frozen=True)
class Plan:
    """What to serve, and the child preparing the store (its exit status is the command's
    when it fails)."""

    server: str
    host: str
    port: int
    workers: int
    certfile: str | None
    keyfile: str | None
    #: The local CA (``serve --tls``): how to trust it is printed once the store is ready.
    ca: str | None
    prepare_pid: int
    #: The settings' home (``{home}/metrics`` holds the workers' shared metrics).
    home: str


def become(plan: Plan) -> NoReturn:
    """Replace this process by the supervisor of ``plan``. The command line stays at the end
    of the new one, unused, for whoever looks for it (``ps``, ``pkill -f 'localforce serve'``)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.environ[PLAN_ENV] = json.dumps(asdict(plan))
    os.environ[PATH_ENV] = json.dumps(sys.path)
    # The interpreter's own options too (-O, -X, -W...): the helper multiprocessing uses.
    flags = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]
    os.execv(sys.executable, [sys.executable, *flags, "-P", "-c", _MAIN, *sys.argv])


def main() -> None:
    plan = Plan(**json.loads(os.environ.pop(PLAN_ENV)))
    try:
        servers.preload(plan.server)  # the workers' app, meanwhile
        code = _wait(plan.prepare_pid)
    except KeyboardInterrupt:  # stopped while the store was prepared: the child stops too
        _wait(plan.prepare_pid)
        raise SystemExit(130) from None
    if code != 0:
        raise SystemExit(code if code > 0 else 1)
    if plan.ca is not None:
        from localforce.security.tls import trust_instructions

        print(trust_instructions(Path(plan.ca)), flush=True)
    metrics_dir = None
    if plan.workers > 1:  # one /metrics over every worker; set before any worker starts
        from localforce.audit.metrics import fresh_multiprocess_dir, share_between_workers

        metrics_dir = fresh_multiprocess_dir(Path(plan.home), os.getpid())
        share_between_workers(metrics_dir)
    try:
        servers.run(plan.server, servers.Listen(  # type: ignore[arg-type]  # checked by serve
            plan.host, plan.port, plan.workers,
            Path(plan.certfile) if plan.certfile else None,
            Path(plan.keyfile) if plan.keyfile else None))
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _wait(pid: int) -> int:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
