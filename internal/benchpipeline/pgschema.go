package benchpipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/stores"
)

// pgSchema creates a fresh schema on the server of dsn and returns a DSN
// whose search_path is that schema, and a function that drops it.
func pgSchema(ctx context.Context, dsn string) (string, func(), error) {
	resolved, err := stores.ResolveSecrets(dsn)
	if err != nil {
		return "", nil, err
	}
	conn, err := pgx.Connect(ctx, resolved)
	if err != nil {
		return "", nil, fmt.Errorf("PostgreSQL at %s: %w", stores.Redact(dsn), err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "switchyard_bench_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	drop := func() {
		c, err := pgx.Connect(context.Background(), resolved)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	}
	// Appended as text, so secret references (${env:...}) stay unresolved
	// in the worker's command line.
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema, drop, nil
}
