package mssql

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/storetest"
)

// contractEnv names the variable that points the contract suite at a real
// SQL Server; scripts/contract-docker.sh sets it.
const contractEnv = "SWITCHYARD_TEST_MSSQL"

// TestContract runs the shared store contract suite against a real SQL
// Server, each subtest in a schema of its own that is dropped afterwards.
func TestContract(t *testing.T) {
	dsn := os.Getenv(contractEnv)
	if dsn == "" {
		t.Skip(contractEnv + " is not set: skipping the store contract suite on SQL Server (set it to a sqlserver:// DSN, or run scripts/contract-docker.sh)")
	}
	parsed, err := ParseDSN(dsn)
	if err != nil {
		t.Fatalf("%s: %v", contractEnv, err)
	}
	admin, err := sql.Open(parsed.DriverName, parsed.Driver)
	if err != nil {
		t.Fatalf("%s: %v", contractEnv, err)
	}
	t.Cleanup(func() { admin.Close() })
	storetest.Run(t, func(t *testing.T) stores.Store {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		schema := "sy_" + randomSuffix(t) // Open creates it
		t.Cleanup(func() { dropSchema(t, admin, schema) })
		st, err := Open(ctx, withSchema(t, dsn, schema))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

func randomSuffix(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func withSchema(t *testing.T, dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s: %v", contractEnv, err)
	}
	q := u.Query()
	q.Set("schema", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

const dropSchemaStatement = `IF SCHEMA_ID(@schema) IS NULL RETURN;
DECLARE @drop NVARCHAR(MAX) = N'';
SELECT @drop += N'DROP TABLE ' + QUOTENAME(s.[name]) + N'.' + QUOTENAME(t.[name]) + N';'
FROM sys.tables AS t JOIN sys.schemas AS s ON s.[schema_id] = t.[schema_id] WHERE s.[name] = @schema;
SET @drop += N'DROP SCHEMA ' + QUOTENAME(@schema) + N';';
EXEC sp_executesql @drop;`

func dropSchema(t *testing.T, admin *sql.DB, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, dropSchemaStatement, sql.Named("schema", schema)); err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
	}
}
