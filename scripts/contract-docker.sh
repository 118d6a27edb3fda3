#!/usr/bin/env bash
# Runs the store contract suite (stores/storetest) against real RethinkDB and
# SQL Server servers started from deploy/compose.yaml.
#
#   scripts/contract-docker.sh              run the suite, leave the services up
#   scripts/contract-docker.sh -v           extra arguments go to `go test`
#   CONTRACT_DOWN=1 scripts/contract-docker.sh   stop the services afterwards
#
# Needs Docker with the compose plugin (v2.17 or later, for --wait-timeout)
# and Go. MSSQL_SA_PASSWORD overrides the development SA password; it must
# satisfy SQL Server's password policy and be URL-safe.
set -euo pipefail

cd "$(dirname "$0")/.."

export MSSQL_SA_PASSWORD="${MSSQL_SA_PASSWORD:-Switchyard-dev-2026}"
compose=(docker compose -f deploy/compose.yaml)

if [[ "${CONTRACT_DOWN:-0}" == "1" ]]; then
	trap '"${compose[@]}" stop rethinkdb mssql' EXIT
fi

echo "starting rethinkdb and mssql, waiting until both report healthy..."
"${compose[@]}" up -d --wait --wait-timeout "${CONTRACT_WAIT_SECONDS:-240}" rethinkdb mssql

SWITCHYARD_TEST_RETHINKDB=127.0.0.1:28015 \
SWITCHYARD_TEST_MSSQL="sqlserver://sa:${MSSQL_SA_PASSWORD}@127.0.0.1:1433?database=master" \
	go test -count=1 ./stores/rethinkdb ./stores/mssql -run Contract "$@"
