package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresReadOnly creates a login role that may only read the schema of
// dsn (as returned by Postgres): USAGE on the schema and SELECT on the
// tables it holds now. It returns dsn with that role as the user, and drops
// the role when the test ends.
func PostgresReadOnly(t testing.TB, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", dsn, err)
	}
	schema := u.Query().Get("search_path")
	if schema == "" {
		t.Fatalf("PostgresReadOnly: %s has no search_path", dsn)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	role := "syreader_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, PostgresBase())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	s, r := pgx.Identifier{schema}.Sanitize(), pgx.Identifier{role}.Sanitize()
	for _, stmt := range []string{
		"CREATE ROLE " + r + " LOGIN",
		"GRANT USAGE ON SCHEMA " + s + " TO " + r,
		"GRANT SELECT ON ALL TABLES IN SCHEMA " + s + " TO " + r,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, PostgresBase())
		if err != nil {
			t.Logf("drop role %s: %v", role, err)
			return
		}
		defer c.Close(ctx)
		for _, stmt := range []string{"DROP OWNED BY " + r, "DROP ROLE " + r} {
			if _, err := c.Exec(ctx, stmt); err != nil {
				t.Logf("%s: %v", stmt, err)
			}
		}
	})
	u.User = url.User(role)
	return u.String()
}
