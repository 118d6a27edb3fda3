#!/usr/bin/env bash
# Runs the whole test suite: go test ./... with any extra flags given.
#
# go test shows nothing of a passing package, so this says first which
# tests will skip on this machine and why: the PostgreSQL tests without a
# server, the console's browser tests without Chromium, the chart tests
# without helm, the RethinkDB tests without SWITCHYARD_TEST_RETHINKDB or a
# server answering there. With SWITCHYARD_REQUIRE_POSTGRES=1,
# SWITCHYARD_REQUIRE_BROWSER=1, SWITCHYARD_REQUIRE_HELM=1 or
# SWITCHYARD_REQUIRE_RETHINKDB=1 (as in CI) those tests fail instead of
# skipping.
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
rethinkdb_tests="the RethinkDB contract suite, the adapter's own tests and the RethinkDB-to-PostgreSQL migration (migrator TestMigrationFromRethinkDB)"
rethinkdb="${SWITCHYARD_TEST_RETHINKDB:-}"
if [ -z "$rethinkdb" ]; then
  if [ "${SWITCHYARD_REQUIRE_RETHINKDB:-}" = 1 ]; then
    echo "RethinkDB: SWITCHYARD_TEST_RETHINKDB is not set and SWITCHYARD_REQUIRE_RETHINKDB=1: $rethinkdb_tests will fail"
  else
    echo "SKIP: $rethinkdb_tests: SWITCHYARD_TEST_RETHINKDB is not set (host:port of a RethinkDB 2.4 server, such as 127.0.0.1:28015)"
  fi
elif (exec 3<>"/dev/tcp/${rethinkdb%:*}/${rethinkdb##*:}") 2>/dev/null; then
  echo "RethinkDB: $rethinkdb answers; $rethinkdb_tests run"
elif [ "${SWITCHYARD_REQUIRE_RETHINKDB:-}" = 1 ]; then
  echo "RethinkDB: $rethinkdb does not answer and SWITCHYARD_REQUIRE_RETHINKDB=1: $rethinkdb_tests will fail"
else
  echo "SKIP: $rethinkdb_tests: nothing answers on $rethinkdb (start RethinkDB or unset SWITCHYARD_TEST_RETHINKDB)"
fi
echo "The SQL Server contract suite runs only with SWITCHYARD_TEST_MSSQL (see docs/stores.md)"
echo

exec go test -count=1 -timeout 25m "$@" ./...
