package mssql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"

	"github.com/switchyard/switchyard/stores"
)

const pinnedDurability = `SELECT d.[delayed_durability] FROM sys.databases AS d WHERE d.[database_id] = DB_ID();`

const pinnedCollation = `SELECT COUNT(*) FROM sys.fn_helpcollations() WHERE [name] = N'Latin1_General_100_BIN2_UTF8';`

const pinnedPermissions = `SELECT CONVERT(INT, CASE WHEN SCHEMA_ID(@schema) IS NULL THEN 0 ELSE 1 END) AS [schema_exists],
    HAS_PERMS_BY_NAME(NULL, N'DATABASE', N'CREATE TABLE') AS [create_table],
    HAS_PERMS_BY_NAME(NULL, N'DATABASE', N'CREATE SCHEMA') AS [create_schema],
    HAS_PERMS_BY_NAME(@schema, N'SCHEMA', N'ALTER') AS [alter],
    HAS_PERMS_BY_NAME(@schema, N'SCHEMA', N'SELECT') AS [select],
    HAS_PERMS_BY_NAME(@schema, N'SCHEMA', N'INSERT') AS [insert],
    HAS_PERMS_BY_NAME(@schema, N'SCHEMA', N'UPDATE') AS [update],
    HAS_PERMS_BY_NAME(@schema, N'SCHEMA', N'DELETE') AS [delete];`

var permissionColumns = []string{"schema_exists", "create_table", "create_schema", "alter", "select", "insert", "update", "delete"}

const pinnedEntities = `SELECT t.[name] FROM sys.tables AS t
WHERE t.[schema_id] = SCHEMA_ID(@schema) AND t.[name] <> N'switchyard_ledger'
    AND (SELECT COUNT(*) FROM sys.columns AS c WHERE c.[object_id] = t.[object_id] AND c.[name] IN (N'key', N'client', N'version', N'deleted', N'data', N'updated_at')) = 6;`

// inspection is what the mock server answers to Inspect's queries.
type inspection struct {
	server      []driver.Value
	delayed     int64
	collations  int64
	permissions []driver.Value
	ledger      bool
	ledgerShape *sqlmock.Rows
	entities    []string
	shapes      map[string]*sqlmock.Rows
}

func expectInspect(mock sqlmock.Sqlmock, in inspection) {
	mock.ExpectPing()
	mock.ExpectQuery(pinnedServer).WithoutArgs().WillReturnRows(sqlmock.NewRows(serverColumns).AddRow(in.server...))
	mock.ExpectQuery(pinnedDurability).WithoutArgs().WillReturnRows(sqlmock.NewRows([]string{"delayed_durability"}).AddRow(in.delayed))
	mock.ExpectQuery(pinnedCollation).WithoutArgs().WillReturnRows(sqlmock.NewRows([]string{"n"}).AddRow(in.collations))
	mock.ExpectQuery(pinnedPermissions).WithArgs(sql.Named("schema", "dbo")).WillReturnRows(sqlmock.NewRows(permissionColumns).AddRow(in.permissions...))
	expectTableExists(mock, "switchyard_ledger", in.ledger)
	names := sqlmock.NewRows([]string{"name"})
	for _, e := range in.entities {
		names.AddRow(e)
	}
	mock.ExpectQuery(pinnedEntities).WithArgs(sql.Named("schema", "dbo")).WillReturnRows(names)
	if in.ledger {
		mock.ExpectQuery(pinnedShape).WithArgs(sql.Named("object", "[dbo].[switchyard_ledger]")).WillReturnRows(in.ledgerShape)
	}
	for _, e := range in.entities {
		mock.ExpectQuery(pinnedShape).WithArgs(sql.Named("object", "[dbo].["+e+"]")).WillReturnRows(in.shapes[e])
	}
}

func ledgerShape() *sqlmock.Rows {
	return sqlmock.NewRows(shapeColumns).
		AddRow("id", "nvarchar", 510, false, "Latin1_General_100_BIN2").
		AddRow("recorded_at", "datetime2", 8, false, "")
}

func healthy() inspection {
	return inspection{
		server:      []driver.Value{int64(3), int64(16), "16.0.4135.4", "app", int64(160)},
		collations:  1,
		permissions: []driver.Value{int64(1), int64(1), int64(1), int64(1), int64(1), int64(1), int64(1), int64(1)},
		ledger:      true,
		ledgerShape: ledgerShape(),
		entities:    []string{"task"},
		shapes:      map[string]*sqlmock.Rows{"task": entityShape()},
	}
}

func statuses(checks []stores.Check) string {
	var parts []string
	for _, c := range checks {
		parts = append(parts, c.Name+"="+string(c.Status))
	}
	return strings.Join(parts, " ")
}

func findCheck(t *testing.T, checks []stores.Check, name string) stores.Check {
	t.Helper()
	for _, c := range checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %s", name, statuses(checks))
	return stores.Check{}
}

func TestInspectHealthyTarget(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	expectInspect(mock, healthy())
	checks := st.Inspect(context.Background(), stores.RoleTarget)
	want := "connect=pass server_version=pass compatibility_level=pass durability=pass utf8_collation=pass permissions=pass table_shape=pass"
	if got := statuses(checks); got != want {
		t.Fatalf("checks = %s\nwant %s\n%+v", got, want, checks)
	}
	checkMet(t, mock) // and nothing was written
}

// TestInspectPlantedProblems: each problem fails (or warns) its own check
// and names what to do.
func TestInspectPlantedProblems(t *testing.T) {
	readOnly := []driver.Value{int64(1), int64(0), int64(0), int64(0), int64(1), int64(0), int64(0), int64(0)}
	cases := []struct {
		name   string
		role   stores.Role
		plant  func(*inspection)
		check  string
		status stores.CheckStatus
		detail string
	}{
		{"old server", stores.RoleTarget, func(in *inspection) {
			in.server = []driver.Value{int64(3), int64(14), "14.0.3456.2", "app", int64(140)}
		}, "server_version", stores.CheckFail, "older than SQL Server 2019"},
		{"low compatibility level", stores.RoleTarget, func(in *inspection) {
			in.server = []driver.Value{int64(3), int64(16), "16.0.4135.4", "app", int64(120)}
		}, "compatibility_level", stores.CheckFail, "ALTER DATABASE [app] SET COMPATIBILITY_LEVEL = 130"},
		{"delayed durability forced", stores.RoleTarget, func(in *inspection) { in.delayed = 2 },
			"durability", stores.CheckFail, "ALTER DATABASE CURRENT SET DELAYED_DURABILITY = DISABLED"},
		{"delayed durability forced on a source", stores.RoleSource, func(in *inspection) {
			in.delayed = 2
			in.permissions = []driver.Value{int64(1), int64(0), int64(0), int64(0), int64(1), int64(0), int64(0), int64(0)}
		}, "durability", stores.CheckWarn, "DELAYED_DURABILITY = FORCED"},
		{"no UTF-8 collations", stores.RoleTarget, func(in *inspection) { in.collations = 0 }, "utf8_collation", stores.CheckFail, "UTF-8 collations need SQL Server 2019"},
		{"read-only target credentials", stores.RoleTarget, func(in *inspection) { in.permissions = readOnly },
			"permissions", stores.CheckFail, "CREATE TABLE in the database, ALTER on schema dbo, INSERT on schema dbo, UPDATE on schema dbo, DELETE on schema dbo"},
		{"missing schema without CREATE SCHEMA", stores.RoleTarget, func(in *inspection) {
			in.permissions = []driver.Value{int64(0), int64(1), int64(0), nil, nil, nil, nil, nil}
		}, "permissions", stores.CheckFail, "CREATE SCHEMA in the database (schema dbo does not exist yet)"},
		{"source without SELECT", stores.RoleSource, func(in *inspection) {
			in.permissions = []driver.Value{int64(1), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0)}
		}, "permissions", stores.CheckFail, "SELECT on schema dbo"},
		{"source that can write", stores.RoleSource, func(*inspection) {}, "permissions", stores.CheckWarn, "a read-only login is safer"},
		{"NVARCHAR key column", stores.RoleTarget, func(in *inspection) {
			in.shapes["task"] = sqlmock.NewRows(shapeColumns).AddRow("key", "nvarchar", 510, false, "Latin1_General_100_BIN2")
		}, "table_shape", stores.CheckFail, "[dbo].[task] column [key] is NVARCHAR(255) COLLATE Latin1_General_100_BIN2, want VARCHAR(255) COLLATE Latin1_General_100_BIN2_UTF8"},
		{"ledger of the wrong collation", stores.RoleTarget, func(in *inspection) {
			in.ledgerShape = sqlmock.NewRows(shapeColumns).AddRow("id", "nvarchar", 510, false, "SQL_Latin1_General_CP1_CI_AS").AddRow("recorded_at", "datetime2", 8, false, "")
		}, "table_shape", stores.CheckFail, "[dbo].[switchyard_ledger] column [id]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, mock := newTestStore(t, Config{})
			in := healthy()
			tc.plant(&in)
			expectInspect(mock, in)
			checks := st.Inspect(context.Background(), tc.role)
			got := findCheck(t, checks, tc.check)
			if got.Status != tc.status || !strings.Contains(got.Detail, tc.detail) {
				t.Fatalf("%s = %s: %s\nwant %s mentioning %q", tc.check, got.Status, got.Detail, tc.status, tc.detail)
			}
			for _, c := range checks {
				if c.Name != tc.check && c.Status != stores.CheckPass {
					t.Errorf("unrelated check %s = %s: %s", c.Name, c.Status, c.Detail)
				}
			}
			checkMet(t, mock)
		})
	}
}

func TestInspectFreshDatabase(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	in := healthy()
	in.ledger, in.entities = false, nil
	expectInspect(mock, in)
	got := findCheck(t, st.Inspect(context.Background(), stores.RoleTarget), "table_shape")
	if got.Status != stores.CheckPass || !strings.Contains(got.Detail, "the first write creates them") {
		t.Fatalf("table_shape = %+v", got)
	}
	checkMet(t, mock)
}

// TestInspectUnreachable: when the server cannot be reached every check
// fails with the reason; none is skipped.
func TestInspectUnreachable(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	mock.ExpectPing().WillReturnError(errors.New("dial tcp 10.0.0.9:1433: connection refused"))
	checks := st.Inspect(context.Background(), stores.RoleTarget)
	want := "connect=fail server_version=fail compatibility_level=fail durability=fail utf8_collation=fail permissions=fail table_shape=fail"
	if got := statuses(checks); got != want || !strings.Contains(checks[0].Detail, "connection refused") || checks[1].Detail != "not run: cannot connect" {
		t.Fatalf("checks = %+v", checks)
	}
	checkMet(t, mock)
	if got := InspectDSN(context.Background(), "sqlserver://h?schema=bad-name", stores.RoleTarget); got[0].Status != stores.CheckFail || !strings.Contains(got[0].Detail, "schema=") {
		t.Fatalf("InspectDSN with a bad DSN = %+v", got)
	}
}

const pinnedDropScratch = `IF OBJECT_ID(@object, N'U') IS NOT NULL
    DROP TABLE [dbo].[switchyard_preflight_ab12];
IF OBJECT_ID(@ledger, N'U') IS NOT NULL
    DELETE FROM [dbo].[switchyard_ledger] WHERE [id] LIKE @ids ESCAPE N'\';`

func TestDropScratch(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	mock.ExpectExec(pinnedDropScratch).WithArgs(
		sql.Named("object", "[dbo].[switchyard_preflight_ab12]"),
		sql.Named("ledger", "[dbo].[switchyard_ledger]"),
		sql.Named("ids", `switchyard\_preflight\_ab12%`)).
		WillReturnResult(sqlmock.NewResult(0, 3))
	if err := st.DropScratch(context.Background(), "switchyard_preflight_ab12"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"task", "switchyard_ledger", "switchyard_preflight", "Switchyard_preflight_x", "switchyard_preflight_x]; DROP TABLE task"} {
		if err := st.DropScratch(context.Background(), name); !errors.Is(err, stores.ErrNotScratch) {
			t.Errorf("DropScratch(%q) = %v, want ErrNotScratch", name, err)
		}
	}
	checkMet(t, mock) // only the scratch entity was dropped
}
