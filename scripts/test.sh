#!/usr/bin/env bash
# Runs the whole test suite: go test ./... with any extra flags given.
#
# go test shows nothing of a passing package, so this says first which
# tests will skip on this machine and why: the PostgreSQL tests without a
# server, the RethinkDB tests without one, the console's browser tests
# without Chromium, the chart tests without helm. With
# SWITCHYARD_REQUIRE_POSTGRES=1, SWITCHYARD_REQUIRE_RETHINKDB=1,
# SWITCHYARD_REQUIRE_BROWSER=1 or SWITCHYARD_REQUIRE_HELM=1 (as in CI) those
# tests fail instead of skipping.
#
# RethinkDB: SWITCHYARD_TEST_RETHINKDB (host:port) names the server; unset,
# a server answering on 127.0.0.1:28015 is used, or else one is started from
# ../shared/tools/rethinkdb when that tool is there, and stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

pg="${SWITCHYARD_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
hostport=$(printf '%s' "$pg" | sed -E 's#^[a-z]+://([^@/]*@)?([^/?]+).*#\2#')
host="${hostport%:*}"; port="${hostport##*:}"; [ "$port" = "$hostport" ] && port=5432
if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
  echo "PostgreSQL: $host:$port answers; the PostgreSQL tests run"
elif [ "${SWITCHYARD_REQUIRE_POSTGRES:-}" = 1 ]; then
  echo "PostgreSQL: $host:$port does not answer and SWITCHYARD_REQUIRE_POSTGRES=1: the PostgreSQL tests will fail"
else
  echo "SKIP: PostgreSQL tests: nothing answers on $host:$port (start PostgreSQL or set SWITCHYARD_TEST_POSTGRES)"
fi

chromium="${SWITCHYARD_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  echo "Chromium: $chromium; the console's browser tests run"
else
  echo "SKIP: console browser tests: no Chromium at $chromium (apt-get install chromium chromium-driver, or .ci/install-browser.sh)"
fi

if command -v helm >/dev/null 2>&1 || [ -x "${SWITCHYARD_HELM:-}" ] || [ -x "$(go env GOPATH)/bin/helm" ]; then
  echo "helm: found; the chart tests run"
else
  echo "SKIP: chart tests: no helm binary (go install helm.sh/helm/v3/cmd/helm@v3.22.0)"
fi
rethinkdb_tests="the RethinkDB tests (the adapter's, its contract suite, and the RethinkDB-to-PostgreSQL migration: migrator TestMigrationFromRethinkDB)"
answers() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }
rethinkdb_tool=../shared/tools/rethinkdb/start.sh
if [ -n "${SWITCHYARD_TEST_RETHINKDB:-}" ]; then
  if answers "$SWITCHYARD_TEST_RETHINKDB"; then
    echo "RethinkDB: $SWITCHYARD_TEST_RETHINKDB answers; $rethinkdb_tests run"
  else
    echo "RethinkDB: SWITCHYARD_TEST_RETHINKDB=$SWITCHYARD_TEST_RETHINKDB does not answer: $rethinkdb_tests will skip (fail with SWITCHYARD_REQUIRE_RETHINKDB=1)"
  fi
elif answers 127.0.0.1:28015; then
  export SWITCHYARD_TEST_RETHINKDB=127.0.0.1:28015
  echo "RethinkDB: 127.0.0.1:28015 answers; $rethinkdb_tests run"
elif [ -x "$rethinkdb_tool" ] && rethinkdb_dir=$(mktemp -d) &&
  rethinkdb_out=$("$rethinkdb_tool" "$rethinkdb_dir" 28015 2>/dev/null); then
  rethinkdb_pid=$(echo "$rethinkdb_out" | sed -n 1p)
  trap 'kill "$rethinkdb_pid" 2>/dev/null || true; rm -rf "$rethinkdb_dir"' EXIT
  export SWITCHYARD_TEST_RETHINKDB=127.0.0.1:28015
  echo "RethinkDB: started one from $rethinkdb_tool on 127.0.0.1:28015 (pid $rethinkdb_pid); $rethinkdb_tests run"
elif [ "${SWITCHYARD_REQUIRE_RETHINKDB:-}" = 1 ]; then
  echo "RethinkDB: no server and none could be started, and SWITCHYARD_REQUIRE_RETHINKDB=1: $rethinkdb_tests will fail"
else
  echo "SKIP: $rethinkdb_tests: no server on 127.0.0.1:28015 and no $rethinkdb_tool to start one (set SWITCHYARD_TEST_RETHINKDB=host:port)"
fi
echo "SQL Server contract suite runs only with SWITCHYARD_TEST_MSSQL (see docs/stores.md)"
echo

# Not exec: a RethinkDB started above is stopped by the trap when go test ends.
go test -count=1 -timeout 25m "$@" ./...
