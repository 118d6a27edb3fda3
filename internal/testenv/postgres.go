package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgres is the server tests use when SWITCHYARD_TEST_POSTGRES is unset.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresBase returns the base DSN of the test server.
func PostgresBase() string {
	if dsn := os.Getenv("SWITCHYARD_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return DefaultPostgres
}

// RequirePostgres reports whether PostgreSQL tests must fail, not skip, when
// the server is unreachable.
func RequirePostgres() bool { return os.Getenv("SWITCHYARD_REQUIRE_POSTGRES") == "1" }

// Postgres creates a fresh schema on the test server, drops it when the test
// ends, and returns a DSN whose search_path is that schema, so concurrent
// tests never see each other's tables.
func Postgres(t testing.TB) string {
	t.Helper()
	dsn, err := PostgresIfReachable(t)
	if err != nil {
		t.Skipf("SKIP: %v", err)
	}
	return dsn
}

// PostgresIfReachable is Postgres for a test that also checks other stores:
// instead of skipping, it returns an error naming the unreachable server,
// so the test can run its other parts and report the skipped one. With
// SWITCHYARD_REQUIRE_POSTGRES=1 an unreachable server fails the test.
func PostgresIfReachable(t testing.TB) (string, error) {
	t.Helper()
	base := PostgresBase()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if RequirePostgres() {
			t.Fatalf("PostgreSQL is required (SWITCHYARD_REQUIRE_POSTGRES=1) but %s is unreachable: %v", base, err)
		}
		return "", fmt.Errorf("PostgreSQL at %s is unreachable (%v); set SWITCHYARD_TEST_POSTGRES or start it", base, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "sytest_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
