package pipelinetest

import (
	"testing"

	"github.com/switchyard/switchyard/internal/testenv"
)

// forEachSink runs test once into a fresh SQLite file and once into a fresh
// PostgreSQL schema (skipped, saying so, when no server is reachable and
// SWITCHYARD_REQUIRE_POSTGRES is not set).
func forEachSink(t *testing.T, test func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, sqliteDSN(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, testenv.Postgres(t)) })
}
