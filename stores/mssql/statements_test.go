package mssql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/golang-sql/civil"
	mssqldb "github.com/microsoft/go-mssqldb"

	"github.com/switchyard/switchyard/stores"
)

// The statements below are pinned verbatim: a change to the T-SQL this
// package sends must show up as a change to this file.

const pinnedLock = `DECLARE @rc INT;
EXEC @rc = sp_getapplock @Resource = @resource, @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 30000;
IF @rc < 0
BEGIN
    THROW 50001, N'switchyard: timed out waiting for the schema lock', 1;
END;`

const pinnedCreateSchema = `IF SCHEMA_ID(@schema) IS NULL
BEGIN
    DECLARE @create NVARCHAR(300) = N'CREATE SCHEMA ' + QUOTENAME(@schema);
    EXEC sp_executesql @create;
END;`

const pinnedCreateLedger = `IF OBJECT_ID(@object, N'U') IS NULL
BEGIN
    CREATE TABLE [dbo].[switchyard_ledger] (
        [id] NVARCHAR(255) COLLATE Latin1_General_100_BIN2 NOT NULL,
        [recorded_at] DATETIME2(7) NOT NULL,
        CONSTRAINT [pk_switchyard_ledger] PRIMARY KEY CLUSTERED ([id])
    );
    CREATE INDEX [ix_switchyard_ledger_recorded_at] ON [dbo].[switchyard_ledger] ([recorded_at]);
END;`

const pinnedCreateTask = `IF OBJECT_ID(@object, N'U') IS NULL
BEGIN
    CREATE TABLE [dbo].[task] (
        [key] VARCHAR(255) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL,
        [client] VARCHAR(255) COLLATE Latin1_General_100_BIN2_UTF8 NOT NULL,
        [version] BIGINT NOT NULL,
        [deleted] BIT NOT NULL,
        [data] NVARCHAR(MAX) NULL,
        [updated_at] DATETIME2(7) NOT NULL,
        CONSTRAINT [pk_task] PRIMARY KEY CLUSTERED ([key]),
        CONSTRAINT [ck_task_data] CHECK ([data] IS NULL OR ISJSON([data]) = 1)
    );
    CREATE INDEX [ix_task_client_key] ON [dbo].[task] ([client], [key]);
END;`

const pinnedAddTitle = `IF COL_LENGTH(@object, @column) IS NULL
    ALTER TABLE [dbo].[task] ADD [title] AS CAST(JSON_VALUE([data], N'$.title') AS NVARCHAR(200)) PERSISTED;`

const pinnedIndexTitle = `IF INDEXPROPERTY(OBJECT_ID(@object), @index, N'IndexID') IS NULL
    CREATE INDEX [ix_task_title] ON [dbo].[task] ([title]);`

const pinnedAddOwnerID = `IF COL_LENGTH(@object, @column) IS NULL
    ALTER TABLE [dbo].[task] ADD [owner_id] AS TRY_CONVERT(BIGINT, JSON_VALUE([data], N'$.owner.id')) PERSISTED;`

const pinnedShape = `SELECT c.[name], TYPE_NAME(c.[user_type_id]), c.[max_length], c.[is_computed], ISNULL(c.[collation_name], N'')
FROM sys.columns AS c
WHERE c.[object_id] = OBJECT_ID(@object)
ORDER BY c.[column_id];`

const pinnedApplyHead = `SET XACT_ABORT ON;
SET NOCOUNT ON;
DECLARE @applied BIGINT = 0, @duplicates BIGINT = 0, @from INT = 0, @count INT;
DECLARE @ids TABLE ([id] NVARCHAR(255) COLLATE Latin1_General_100_BIN2 NOT NULL PRIMARY KEY, [s] BIT NOT NULL, [n] INT NOT NULL);
DECLARE @seen TABLE ([id] NVARCHAR(255) COLLATE Latin1_General_100_BIN2 NOT NULL PRIMARY KEY, [s] BIT NOT NULL);
INSERT INTO @ids ([id], [s], [n])
SELECT u.[id], u.[s], ROW_NUMBER() OVER (ORDER BY u.[id] COLLATE Latin1_General_100_BIN2) - 1
FROM (SELECT CAST(j.[value] AS NVARCHAR(255)) AS [id], 0 AS [s] FROM OPENJSON(@batch, N'$.ids') AS j
    UNION ALL SELECT CAST(j.[value] AS NVARCHAR(255)), 1 FROM OPENJSON(@batch, N'$.sup') AS j) AS u;
SET @count = @@ROWCOUNT;
BEGIN TRANSACTION;
WHILE @from < @count
BEGIN
    INSERT INTO @seen ([id], [s]) SELECT l.[id], i.[s]
    FROM @ids AS i INNER LOOP JOIN [dbo].[switchyard_ledger] AS l WITH (UPDLOCK, HOLDLOCK, FORCESEEK) ON l.[id] = i.[id]
    WHERE i.[n] >= @from AND i.[n] < @from + 1000;
    INSERT INTO [dbo].[switchyard_ledger] ([id], [recorded_at]) SELECT i.[id], SYSUTCDATETIME()
    FROM @ids AS i
    WHERE i.[n] >= @from AND i.[n] < @from + 1000 AND NOT EXISTS (SELECT 1 FROM @seen AS z WHERE z.[id] = i.[id]);
    SET @from += 1000;
END;
SELECT @duplicates = COUNT_BIG(*) FROM @seen WHERE [s] = 0;
`

const pinnedMergeTask = `SELECT @from = 0, @count = COUNT(*) FROM OPENJSON(@batch, N'$.e[%[1]d]');
WHILE @from < @count
BEGIN
    MERGE [dbo].[task] WITH (HOLDLOCK) AS t
    USING (
        SELECT CONVERT(VARCHAR(255), s.[k] COLLATE Latin1_General_100_BIN2_UTF8) AS [k], CONVERT(VARCHAR(255), s.[c] COLLATE Latin1_General_100_BIN2_UTF8) AS [c], s.[v], s.[d], s.[x], s.[a]
        FROM OPENJSON(@batch, N'$.e[%[1]d]') AS r
        CROSS APPLY OPENJSON(r.[value]) WITH ([k] NVARCHAR(255) N'$.k', [c] NVARCHAR(255) N'$.c', [v] BIGINT N'$.v', [d] BIT N'$.d', [x] NVARCHAR(MAX) N'$.x', [i] NVARCHAR(255) N'$.i', [a] BIT N'$.a') AS s
        WHERE CONVERT(INT, r.[key]) >= @from AND CONVERT(INT, r.[key]) < @from + 1000
            AND (s.[i] IS NULL OR NOT EXISTS (SELECT 1 FROM @seen AS z WHERE z.[id] = s.[i] COLLATE Latin1_General_100_BIN2))
    ) AS s
    ON t.[key] = s.[k]
    WHEN MATCHED AND s.[a] = 0 AND s.[v] > t.[version] THEN
        UPDATE SET t.[client] = s.[c], t.[version] = s.[v], t.[deleted] = s.[d], t.[data] = s.[x], t.[updated_at] = SYSUTCDATETIME()
    WHEN NOT MATCHED BY TARGET THEN
        INSERT ([key], [client], [version], [deleted], [data], [updated_at]) VALUES (s.[k], s.[c], s.[v], s.[d], s.[x], SYSUTCDATETIME());
    SET @applied += @@ROWCOUNT;
    SET @from += 1000;
END;
`

const pinnedApplyTail = `COMMIT TRANSACTION;
SELECT @applied AS [applied], @duplicates AS [duplicates];`

func pinnedMerge(entity string, index int) string {
	return strings.ReplaceAll(fmt.Sprintf(pinnedMergeTask, index), "[dbo].[task]", "[dbo].["+entity+"]")
}

var shapeColumns = []string{"name", "type", "max_length", "is_computed", "collation"}

func entityShape() *sqlmock.Rows {
	return sqlmock.NewRows(shapeColumns).
		AddRow("key", "varchar", 255, false, "Latin1_General_100_BIN2_UTF8").
		AddRow("client", "varchar", 255, false, "Latin1_General_100_BIN2_UTF8").
		AddRow("version", "bigint", 8, false, "").
		AddRow("deleted", "bit", 1, false, "").
		AddRow("data", "nvarchar", -1, false, "SQL_Latin1_General_CP1_CI_AS").
		AddRow("updated_at", "datetime2", 8, false, "")
}

// driverValues passes the driver's own parameter types through unchanged,
// as go-mssqldb's CheckNamedValue does, so expectations see the Go type
// that decides the declared SQL type (mssqldb.NVarCharMax: nvarchar(max);
// civil.DateTime: datetime2(7); string: nvarchar(n); time.Time:
// datetimeoffset(7)). sqlmock's default converter would turn a
// NVarCharMax into a plain string and hide the declaration.
type driverValues struct{}

func (driverValues) ConvertValue(v any) (driver.Value, error) {
	switch v.(type) {
	case mssqldb.NVarCharMax, mssqldb.VarChar, mssqldb.VarCharMax, mssqldb.NChar, mssqldb.DateTime1, mssqldb.DateTimeOffset, civil.DateTime:
		return v, nil
	}
	return driver.DefaultParameterConverter.ConvertValue(v)
}

// newMock returns a sqlmock handle that matches statements exactly and
// keeps the driver's parameter types.
func newMock(t *testing.T) (*sql.DB, sqlmock.Sqlmock) {
	t.Helper()
	db, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqlmock.QueryMatcherEqual), sqlmock.ValueConverterOption(driverValues{}), sqlmock.MonitorPingsOption(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, mock
}

func expectLedger(mock sqlmock.Sqlmock) {
	mock.ExpectBegin()
	mock.ExpectExec(pinnedLock).WithArgs(sql.Named("resource", "switchyard:schema:dbo.switchyard_ledger")).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec(pinnedCreateSchema).WithArgs(sql.Named("object", "[dbo].[switchyard_ledger]"), sql.Named("schema", "dbo")).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec(pinnedCreateLedger).WithArgs(sql.Named("object", "[dbo].[switchyard_ledger]")).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectQuery(pinnedShape).WithArgs(sql.Named("object", "[dbo].[switchyard_ledger]")).WillReturnRows(
		sqlmock.NewRows(shapeColumns).
			AddRow("id", "nvarchar", 510, false, "Latin1_General_100_BIN2").
			AddRow("recorded_at", "datetime2", 8, false, ""))
	mock.ExpectCommit()
}

func expectPlainEntity(mock sqlmock.Sqlmock, entity string) {
	object := "[dbo].[" + entity + "]"
	mock.ExpectBegin()
	mock.ExpectExec(pinnedLock).WithArgs(sql.Named("resource", "switchyard:schema:dbo."+entity)).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec(strings.ReplaceAll(strings.ReplaceAll(pinnedCreateTask, "task", entity), "[dbo].[task]", object)).
		WithArgs(sql.Named("object", object)).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectQuery(pinnedShape).WithArgs(sql.Named("object", object)).WillReturnRows(entityShape())
	mock.ExpectCommit()
}

const pinnedServer = `SELECT CONVERT(INT, SERVERPROPERTY('EngineEdition')) AS [engine_edition],
    CONVERT(INT, SERVERPROPERTY('ProductMajorVersion')) AS [major_version],
    CONVERT(NVARCHAR(128), SERVERPROPERTY('ProductVersion')) AS [product_version],
    d.[name], d.[compatibility_level]
FROM sys.databases AS d
WHERE d.[database_id] = DB_ID();`

var serverColumns = []string{"engine_edition", "major_version", "product_version", "name", "compatibility_level"}

// goodServer is SQL Server 2022 with a database at level 160.
func goodServer() *sqlmock.Rows {
	return sqlmock.NewRows(serverColumns).AddRow(int64(3), int64(16), "16.0.4135.4", "app", int64(160))
}

// newTestStore returns a store on a mock whose open-time check found SQL
// Server 2022 and compatibility level 160. Nothing else is sent at open.
func newTestStore(t *testing.T, cfg Config) (*Store, sqlmock.Sqlmock) {
	t.Helper()
	db, mock := newMock(t)
	mock.ExpectQuery(pinnedServer).WithoutArgs().WillReturnRows(goodServer())
	st, err := New(context.Background(), db, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	st.pause = func(context.Context, int) error { return nil }
	return st, mock
}

func checkMet(t *testing.T, mock sqlmock.Sqlmock) {
	t.Helper()
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Error(err)
	}
}

// TestNewWritesNothing: opening a store only reads the server's version
// and the compatibility level; the ledger is created by the first Apply,
// so a read-only login can open a store.
func TestNewWritesNothing(t *testing.T) {
	_, mock := newTestStore(t, Config{})
	checkMet(t, mock)
}

func TestEnsureEntityWithProjections(t *testing.T) {
	_, entity, title, err := parseTwo("task.title:nvarchar(200):index", "task.owner.id:bigint")
	if err != nil {
		t.Fatal(err)
	}
	st, mock := newTestStore(t, Config{Projections: map[string][]Projection{entity: {title[1], title[0]}}})
	mock.ExpectBegin()
	mock.ExpectExec(pinnedLock).WithArgs(sql.Named("resource", "switchyard:schema:dbo.task")).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec(pinnedCreateTask).WithArgs(sql.Named("object", "[dbo].[task]")).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec(pinnedAddOwnerID).WithArgs(sql.Named("object", "[dbo].[task]"), sql.Named("column", "owner_id")).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec(pinnedAddTitle).WithArgs(sql.Named("object", "[dbo].[task]"), sql.Named("column", "title")).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec(pinnedIndexTitle).WithArgs(sql.Named("object", "[dbo].[task]"), sql.Named("index", "ix_task_title")).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectQuery(pinnedShape).WithArgs(sql.Named("object", "[dbo].[task]")).WillReturnRows(
		entityShape().AddRow("owner_id", "bigint", 8, true, "").AddRow("title", "nvarchar", 400, true, "SQL_Latin1_General_CP1_CI_AS"))
	mock.ExpectCommit()
	if err := st.ensureEntity(context.Background(), "task"); err != nil {
		t.Fatalf("ensureEntity: %v", err)
	}
	// A second call is served from the cache: no statement is expected.
	if err := st.ensureEntity(context.Background(), "task"); err != nil {
		t.Fatalf("ensureEntity again: %v", err)
	}
	checkMet(t, mock)
}

// parseTwo parses two projection specs of one entity.
func parseTwo(a, b string) (string, string, []Projection, error) {
	ea, pa, err := ParseProjection(a)
	if err != nil {
		return "", "", nil, err
	}
	eb, pb, err := ParseProjection(b)
	if err != nil {
		return "", "", nil, err
	}
	if ea != eb {
		return "", "", nil, fmt.Errorf("entities differ: %s, %s", ea, eb)
	}
	return ea, ea, []Projection{pa, pb}, nil
}

func TestSchemaMismatchNamesTheColumn(t *testing.T) {
	cases := []struct {
		name string
		rows *sqlmock.Rows
		want string
	}{
		{"NVARCHAR keys", sqlmock.NewRows(shapeColumns).
			AddRow("key", "nvarchar", 510, false, "Latin1_General_100_BIN2"),
			"column [key] is NVARCHAR(255) COLLATE Latin1_General_100_BIN2, want VARCHAR(255) COLLATE Latin1_General_100_BIN2_UTF8 (UTF-8 under a binary collation"},
		{"NVARCHAR clients", sqlmock.NewRows(shapeColumns).
			AddRow("key", "varchar", 255, false, "Latin1_General_100_BIN2_UTF8").
			AddRow("client", "nvarchar", 510, false, "Latin1_General_100_BIN2"),
			"column [client] is NVARCHAR(255) COLLATE Latin1_General_100_BIN2, want VARCHAR(255) COLLATE Latin1_General_100_BIN2_UTF8"},
		{"code page keys", sqlmock.NewRows(shapeColumns).
			AddRow("key", "varchar", 255, false, "Latin1_General_100_BIN2"),
			"column [key] is VARCHAR(255) COLLATE Latin1_General_100_BIN2, want VARCHAR(255) COLLATE Latin1_General_100_BIN2_UTF8"},
		{"case-insensitive keys", sqlmock.NewRows(shapeColumns).
			AddRow("key", "varchar", 255, false, "Latin1_General_100_CI_AS_SC_UTF8"),
			"column [key] is VARCHAR(255) COLLATE Latin1_General_100_CI_AS_SC_UTF8, want"},
		{"short keys", sqlmock.NewRows(shapeColumns).
			AddRow("key", "varchar", 100, false, "Latin1_General_100_BIN2_UTF8"),
			"column [key] is VARCHAR(100) COLLATE Latin1_General_100_BIN2_UTF8, want VARCHAR(255)"},
		{"missing version", sqlmock.NewRows(shapeColumns).
			AddRow("key", "varchar", 255, false, "Latin1_General_100_BIN2_UTF8").
			AddRow("client", "varchar", 255, false, "Latin1_General_100_BIN2_UTF8"), "has no column [version]"},
		{"short data", sqlmock.NewRows(shapeColumns).
			AddRow("key", "varchar", 255, false, "Latin1_General_100_BIN2_UTF8").
			AddRow("client", "varchar", 255, false, "Latin1_General_100_BIN2_UTF8").
			AddRow("version", "bigint", 8, false, "").
			AddRow("deleted", "bit", 1, false, "").
			AddRow("data", "nvarchar", 8000, false, ""), "column [data] is nvarchar of 4000 characters, want MAX"},
		{"int version", sqlmock.NewRows(shapeColumns).
			AddRow("key", "varchar", 255, false, "Latin1_General_100_BIN2_UTF8").
			AddRow("client", "varchar", 255, false, "Latin1_General_100_BIN2_UTF8").
			AddRow("version", "int", 4, false, ""), "column [version] is int, want bigint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, mock := newTestStore(t, Config{})
			mock.ExpectBegin()
			mock.ExpectExec(pinnedLock).WillReturnResult(sqlmock.NewResult(0, 0))
			mock.ExpectExec(pinnedCreateTask).WillReturnResult(sqlmock.NewResult(0, 0))
			mock.ExpectQuery(pinnedShape).WillReturnRows(tc.rows)
			mock.ExpectRollback()
			err := st.ensureEntity(context.Background(), "task")
			if !errors.Is(err, stores.ErrSchemaMismatch) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrSchemaMismatch mentioning %q", err, tc.want)
			}
			checkMet(t, mock)
		})
	}
}

func TestProjectionOverPlainColumnIsMismatch(t *testing.T) {
	entity, p, err := ParseProjection("task.title:nvarchar(200)")
	if err != nil {
		t.Fatal(err)
	}
	st, mock := newTestStore(t, Config{Projections: map[string][]Projection{entity: {p}}})
	mock.ExpectBegin()
	mock.ExpectExec(pinnedLock).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec(pinnedCreateTask).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec(pinnedAddTitle).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectQuery(pinnedShape).WillReturnRows(entityShape().AddRow("title", "nvarchar", 400, false, ""))
	mock.ExpectRollback()
	err = st.ensureEntity(context.Background(), "task")
	if !errors.Is(err, stores.ErrSchemaMismatch) || !strings.Contains(err.Error(), "[title] exists but is not a computed column") {
		t.Fatalf("err = %v", err)
	}
	checkMet(t, mock)
}

// payloadArg matches the @batch parameter by decoding it, so the test can
// state the rows it expects rather than a byte-exact string.
type payloadArg struct {
	t    *testing.T
	want batch
}

// batchText returns the @batch parameter's text, and fails the test unless
// it is sent as mssqldb.NVarCharMax (declared nvarchar(max), one plan for
// every batch length).
func batchText(t *testing.T, v driver.Value) (string, bool) {
	t.Helper()
	s, ok := v.(mssqldb.NVarCharMax)
	if !ok {
		t.Errorf("@batch is %T, want mssqldb.NVarCharMax", v)
	}
	return string(s), ok
}

func (p payloadArg) Match(v driver.Value) bool {
	s, ok := batchText(p.t, v)
	if !ok {
		return false
	}
	var got batch
	if err := json.Unmarshal([]byte(s), &got); err != nil {
		p.t.Errorf("@batch is not JSON: %v", err)
		return false
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(p.want)
	if string(gotJSON) != string(wantJSON) {
		p.t.Errorf("@batch =\n%s\nwant\n%s", gotJSON, wantJSON)
		return false
	}
	return true
}

func ptr(s string) *string { return &s }

func TestApplyPinsOneBatch(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	expectLedger(mock)
	expectPlainEntity(mock, "note")
	expectPlainEntity(mock, "task")
	statement := pinnedApplyHead + pinnedMerge("note", 0) + pinnedMerge("task", 1) + pinnedApplyTail
	want := batch{
		EventIDs:   []string{"e1", "e2", "e4"},
		Superseded: []string{"e3"},
		Entities: [][]batchRow{
			{{Key: "n1", Client: "acme", Version: 9, Deleted: true, EventID: "e4"}},
			{
				{Key: "a", Client: "acme", Version: 3, Data: ptr(`{"title":"new"}`), EventID: "e2"},
				{Key: "b", Client: "acme", Version: 1, Data: ptr(`{"title":"backfilled","n":[1,2.5,{"x":null}]}`), IfAbsent: true},
				{Key: "c", Client: "beta", Version: 9007199254740993, Data: ptr(`{"big":123456789012345678901234567890}`), EventID: "e1"},
			},
		},
	}
	mock.ExpectQuery(statement).WithArgs(payloadArg{t, want}).
		WillReturnRows(sqlmock.NewRows([]string{"applied", "duplicates"}).AddRow(int64(3), int64(1)))
	writes := []stores.Write{
		{Entity: "task", Key: "c", Client: "beta", Version: 9007199254740993, Data: json.RawMessage(`{"big":123456789012345678901234567890}`), EventID: "e1"},
		{Entity: "task", Key: "a", Client: "acme", Version: 2, Data: json.RawMessage(`{"title":"old"}`), EventID: "e3"},
		{Entity: "task", Key: "a", Client: "acme", Version: 3, Data: json.RawMessage(` {"title":"new"} `), EventID: "e2"},
		{Entity: "task", Key: "b", Client: "acme", Version: 1, Data: json.RawMessage(`{"title":"backfilled","n":[1,2.5,{"x":null}]}`), IfAbsent: true},
		{Entity: "note", Key: "n1", Client: "acme", Version: 9, Deleted: true, EventID: "e4"},
	}
	res, err := st.Apply(context.Background(), writes)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	// Plan: "a"@2 lost to "a"@3 (skipped); the server applied 3 of 4 and
	// found 1 ledger duplicate.
	if want := (stores.ApplyResult{Applied: 3, Skipped: 1, Duplicates: 1}); res != want {
		t.Fatalf("result = %+v, want %+v", res, want)
	}
	checkMet(t, mock)
}

// rawArg matches the @batch parameter byte for byte.
type rawArg struct {
	t    *testing.T
	want string
}

func (a rawArg) Match(v driver.Value) bool {
	if s, ok := batchText(a.t, v); !ok || s != a.want {
		a.t.Errorf("@batch =\n%v\nwant\n%s", v, a.want)
		return false
	}
	return true
}

// TestApplyRecordsSupersededEventIDs: the id of a write that lost to a
// higher version of its key travels in "sup", is recorded with the others
// and is never counted, so a late retry of it is a duplicate and cannot
// bring back its older state. The counts the server returns are shaped by
// the statement: @duplicates counts only ids with [s] = 0.
func TestApplyRecordsSupersededEventIDs(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	expectLedger(mock)
	expectPlainEntity(mock, "task")
	statement := pinnedApplyHead + pinnedMerge("task", 0) + pinnedApplyTail
	counts := func(applied, duplicates int64) *sqlmock.Rows {
		return sqlmock.NewRows([]string{"applied", "duplicates"}).AddRow(applied, duplicates)
	}
	pair := []stores.Write{
		{Entity: "task", Key: "k", Client: "acme", Version: 5, Data: json.RawMessage(`{"state":"older"}`), EventID: "ev-older"},
		{Entity: "task", Key: "k", Client: "acme", Version: 7, Data: json.RawMessage(`{"state":"newer"}`), EventID: "ev-newer"},
	}
	pairBatch := `{"ids":["ev-newer"],"sup":["ev-older"],"e":[[{"k":"k","c":"acme","v":"7","d":false,"x":"{\"state\":\"newer\"}","i":"ev-newer","a":false}]]}`
	mock.ExpectQuery(statement).WithArgs(rawArg{t, pairBatch}).WillReturnRows(counts(1, 0))
	// The late retry, with a higher stream sequence: no superseded ids, so
	// "sup" is left out; the server finds ev-older in the ledger.
	retryBatch := `{"ids":["ev-older"],"e":[[{"k":"k","c":"acme","v":"9","d":false,"x":"{\"state\":\"older\"}","i":"ev-older","a":false}]]}`
	mock.ExpectQuery(statement).WithArgs(rawArg{t, retryBatch}).WillReturnRows(counts(0, 1))
	// The pair redelivered: both ids are in the ledger, only ev-newer counts.
	mock.ExpectQuery(statement).WithArgs(rawArg{t, pairBatch}).WillReturnRows(counts(0, 1))

	ctx := context.Background()
	res, err := st.Apply(ctx, pair)
	if want := (stores.ApplyResult{Applied: 1, Skipped: 1}); err != nil || res != want {
		t.Fatalf("two events of one key = %+v, %v; want %+v", res, err, want)
	}
	res, err = st.Apply(ctx, []stores.Write{
		{Entity: "task", Key: "k", Client: "acme", Version: 9, Data: json.RawMessage(`{"state":"older"}`), EventID: "ev-older"},
	})
	if want := (stores.ApplyResult{Duplicates: 1}); err != nil || res != want {
		t.Fatalf("late retry of the superseded event = %+v, %v; want %+v", res, err, want)
	}
	res, err = st.Apply(ctx, pair)
	if want := (stores.ApplyResult{Skipped: 1, Duplicates: 1}); err != nil || res != want {
		t.Fatalf("the pair redelivered = %+v, %v; want %+v", res, err, want)
	}
	checkMet(t, mock)
}

// countingArg checks the batch parameter of a large apply.
type countingArg struct {
	t    *testing.T
	rows int
}

func (c countingArg) Match(v driver.Value) bool {
	text, ok := batchText(c.t, v)
	if !ok {
		return false
	}
	var got batch
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		c.t.Errorf("@batch: %v", err)
		return false
	}
	if len(got.Entities) != 1 || len(got.Entities[0]) != c.rows || len(got.EventIDs) != c.rows {
		c.t.Errorf("@batch holds %d entities, %d ids", len(got.Entities), len(got.EventIDs))
		return false
	}
	return true
}

// TestApplyLargeBatchSendsOneParameter: 3,000 writes would need 21,000
// parameters sent one per value, ten times the 2,100 cap; the batch sends one.
func TestApplyLargeBatchSendsOneParameter(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	expectLedger(mock)
	expectPlainEntity(mock, "task")
	const n = 3000
	writes := make([]stores.Write, n)
	for i := range writes {
		writes[i] = stores.Write{Entity: "task", Key: fmt.Sprintf("k%05d", i), Client: "acme", Version: 1,
			Data: json.RawMessage(`{"i":1}`), EventID: fmt.Sprintf("e%05d", i)}
	}
	mock.ExpectQuery(pinnedApplyHead + pinnedMerge("task", 0) + pinnedApplyTail).WithArgs(countingArg{t, n}).
		WillReturnRows(sqlmock.NewRows([]string{"applied", "duplicates"}).AddRow(int64(n), int64(0)))
	res, err := st.Apply(context.Background(), writes)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if res.Applied != n {
		t.Fatalf("applied %d, want %d", res.Applied, n)
	}
	checkMet(t, mock)
}

func TestApplyRetriesDeadlocks(t *testing.T) {
	statement := pinnedApplyHead + pinnedMerge("task", 0) + pinnedApplyTail
	writes := []stores.Write{{Entity: "task", Key: "a", Client: "acme", Version: 1, Data: json.RawMessage(`{}`)}}
	deadlock := mssqldb.Error{Number: 1205, Message: "chosen as deadlock victim"}

	t.Run("recovers", func(t *testing.T) {
		st, mock := newTestStore(t, Config{})
		expectLedger(mock)
		expectPlainEntity(mock, "task")
		mock.ExpectQuery(statement).WillReturnError(deadlock)
		mock.ExpectQuery(statement).WillReturnError(deadlock)
		mock.ExpectQuery(statement).WillReturnRows(sqlmock.NewRows([]string{"applied", "duplicates"}).AddRow(int64(1), int64(0)))
		res, err := st.Apply(context.Background(), writes)
		if err != nil || res.Applied != 1 {
			t.Fatalf("Apply = %+v, %v", res, err)
		}
		checkMet(t, mock)
	})
	t.Run("gives up transient", func(t *testing.T) {
		st, mock := newTestStore(t, Config{DeadlockRetries: 2})
		expectLedger(mock)
		expectPlainEntity(mock, "task")
		for range 3 {
			mock.ExpectQuery(statement).WillReturnError(deadlock)
		}
		_, err := st.Apply(context.Background(), writes)
		if !stores.IsTransient(err) || !isDeadlock(err) {
			t.Fatalf("err = %v, want a transient deadlock", err)
		}
		checkMet(t, mock)
	})
	t.Run("other errors are not retried", func(t *testing.T) {
		st, mock := newTestStore(t, Config{})
		expectLedger(mock)
		expectPlainEntity(mock, "task")
		mock.ExpectQuery(statement).WillReturnError(mssqldb.Error{Number: 547, Message: "CHECK constraint"})
		_, err := st.Apply(context.Background(), writes)
		if err == nil || stores.IsTransient(err) {
			t.Fatalf("err = %v, want a permanent error", err)
		}
		checkMet(t, mock)
	})
}

func TestApplyRejectsWhatSQLServerCannotHold(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 129) + "1" + strings.Repeat("}", 129)
	ok := stores.Write{Entity: "task", Key: "a", Client: "acme", Version: 1, Data: json.RawMessage(`{}`)}
	cases := []struct {
		name  string
		write stores.Write
		want  string
	}{
		{"ledger entity", stores.Write{Entity: "switchyard_ledger", Key: "a", Client: "c", Version: 1, Data: json.RawMessage(`{}`)}, "reserved"},
		{"bad key", stores.Write{Entity: "task", Key: "a\xff", Client: "c", Version: 1, Data: json.RawMessage(`{}`)}, "key is not valid UTF-8"},
		{"bad client", stores.Write{Entity: "task", Key: "a", Client: "c\xff", Version: 1, Data: json.RawMessage(`{}`)}, "client is not valid UTF-8"},
		{"long event id", stores.Write{Entity: "task", Key: "a", Client: "c", Version: 1, Data: json.RawMessage(`{}`), EventID: strings.Repeat("e", 256)}, "event id is 256 bytes"},
		{"bad data", stores.Write{Entity: "task", Key: "a", Client: "c", Version: 1, Data: json.RawMessage("{\"s\":\"\xff\"}")}, "data is not valid UTF-8"},
		{"deep data", stores.Write{Entity: "task", Key: "a", Client: "c", Version: 1, Data: json.RawMessage(deep)}, "nested 129 levels"},
		{"not an object", stores.Write{Entity: "task", Key: "a", Client: "c", Version: 1, Data: json.RawMessage(`[1]`)}, "JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, mock := newTestStore(t, Config{})
			_, err := st.Apply(context.Background(), []stores.Write{ok, tc.write})
			var rej *stores.RejectError
			if !errors.As(err, &rej) || rej.Index != 1 || !strings.Contains(rej.Reason, tc.want) {
				t.Fatalf("err = %v, want a RejectError for write 1 mentioning %q", err, tc.want)
			}
			checkMet(t, mock) // nothing was sent
		})
	}
	if depth := jsonDepth([]byte(`{"a":"{{{[[[","b":[{"c":"\"}"}]}`)); depth != 3 {
		t.Fatalf("jsonDepth = %d, want 3", depth)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		transient bool
	}{
		{"deadlock", mssqldb.Error{Number: 1205}, true},
		{"failover", fmt.Errorf("wrapped: %w", mssqldb.Error{Number: 40613}), true},
		{"server error wrapping a transient number", mssqldb.Error{Number: 10054}, true},
		{"duplicate key", mssqldb.Error{Number: 2627}, false},
		{"bad conn", driver.ErrBadConn, true},
		{"network", &netError{}, true},
		{"stream", mssqldb.StreamError{InnerError: errors.New("short read")}, true},
		{"deadline", context.DeadlineExceeded, false},
		{"canceled", context.Canceled, false},
		{"plain", errors.New("boom"), false},
	}
	for _, tc := range cases {
		if got := stores.IsTransient(classify(tc.err)); got != tc.transient {
			t.Errorf("%s: transient = %v, want %v", tc.name, got, tc.transient)
		}
	}
	if classify(nil) != nil {
		t.Error("classify(nil) != nil")
	}
}

type netError struct{}

func (*netError) Error() string   { return "connection refused" }
func (*netError) Timeout() bool   { return false }
func (*netError) Temporary() bool { return false }

const pinnedGet = `SELECT CONVERT(NVARCHAR(255), t.[key]) AS [key], CONVERT(NVARCHAR(255), t.[client]) AS [client], t.[version], t.[deleted], t.[data], t.[updated_at] FROM [dbo].[task] AS t WHERE t.[key] = CONVERT(VARCHAR(255), @key COLLATE Latin1_General_100_BIN2_UTF8);`

var recordRows = []string{"key", "client", "version", "deleted", "data", "updated_at"}

func TestGet(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mock.ExpectQuery(pinnedGet).WithArgs(sql.Named("key", mssqldb.NVarCharMax("a"))).WillReturnRows(
		sqlmock.NewRows(recordRows).AddRow("a", "acme", int64(3), false, `{"title":"x"}`, at))
	mock.ExpectQuery(pinnedGet).WithArgs(sql.Named("key", mssqldb.NVarCharMax("gone"))).WillReturnRows(
		sqlmock.NewRows(recordRows).AddRow("gone", "acme", int64(4), true, nil, at))
	mock.ExpectQuery(pinnedGet).WithArgs(sql.Named("key", mssqldb.NVarCharMax("none"))).WillReturnRows(sqlmock.NewRows(recordRows))
	mock.ExpectQuery(pinnedGet).WithArgs(sql.Named("key", mssqldb.NVarCharMax("a"))).WillReturnError(mssqldb.Error{Number: 208, Message: "Invalid object name"})

	ctx := context.Background()
	rec, err := st.Get(ctx, "task", "a")
	if err != nil || rec.Key != "a" || rec.Client != "acme" || rec.Version != 3 || rec.Deleted || string(rec.Data) != `{"title":"x"}` || !rec.UpdatedAt.Equal(at) {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
	rec, err = st.Get(ctx, "task", "gone")
	if err != nil || !rec.Deleted || rec.Data != nil || rec.Version != 4 {
		t.Fatalf("Get tombstone = %+v, %v", rec, err)
	}
	if _, err := st.Get(ctx, "task", "none"); !errors.Is(err, stores.ErrNotFound) {
		t.Fatalf("Get missing key: %v", err)
	}
	if _, err := st.Get(ctx, "task", "a"); !errors.Is(err, stores.ErrNoEntity) {
		t.Fatalf("Get without table: %v", err)
	}
	if _, err := st.Get(ctx, "Task; DROP TABLE x", "a"); !errors.Is(err, stores.ErrNoEntity) {
		t.Fatalf("Get with a bad entity: %v", err)
	}
	checkMet(t, mock)
}

func TestScan(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mock.ExpectQuery(`SELECT TOP (@limit) CONVERT(NVARCHAR(255), t.[key]) AS [key], CONVERT(NVARCHAR(255), t.[client]) AS [client], t.[version], t.[deleted], t.[data], t.[updated_at] FROM [dbo].[task] AS t WHERE t.[key] > CONVERT(VARCHAR(255), @after COLLATE Latin1_General_100_BIN2_UTF8) AND t.[key] <= CONVERT(VARCHAR(255), @through COLLATE Latin1_General_100_BIN2_UTF8) AND t.[client] = CONVERT(VARCHAR(255), @client COLLATE Latin1_General_100_BIN2_UTF8) ORDER BY t.[key];`).
		WithArgs(sql.Named("after", mssqldb.NVarCharMax("a")), sql.Named("limit", int64(2)), sql.Named("through", mssqldb.NVarCharMax("z")), sql.Named("client", mssqldb.NVarCharMax("acme"))).
		WillReturnRows(sqlmock.NewRows(recordRows).
			AddRow("b", "acme", int64(1), false, `{"n":1}`, at).
			AddRow("c", "acme", int64(2), true, nil, at))
	mock.ExpectQuery(`SELECT CONVERT(NVARCHAR(255), t.[key]) AS [key], CONVERT(NVARCHAR(255), t.[client]) AS [client], t.[version], t.[deleted], t.[data], t.[updated_at] FROM [dbo].[task] AS t WHERE t.[key] > CONVERT(VARCHAR(255), @after COLLATE Latin1_General_100_BIN2_UTF8) ORDER BY t.[key];`).
		WithArgs(sql.Named("after", mssqldb.NVarCharMax(""))).
		WillReturnError(mssqldb.Error{Number: 208})
	mock.ExpectQuery(`SELECT CONVERT(NVARCHAR(255), t.[key]) AS [key], CONVERT(NVARCHAR(255), t.[client]) AS [client], t.[version], t.[deleted], t.[data], t.[updated_at] FROM [dbo].[task] AS t WHERE t.[key] > CONVERT(VARCHAR(255), @after COLLATE Latin1_General_100_BIN2_UTF8) ORDER BY t.[key];`).
		WithArgs(sql.Named("after", mssqldb.NVarCharMax(""))).
		WillReturnError(&netError{})

	ctx := context.Background()
	recs, err := st.Scan(ctx, "task", stores.Range{After: "a", Through: "z", Limit: 2, Client: "acme"})
	if err != nil || len(recs) != 2 || recs[0].Key != "b" || !recs[1].Deleted || recs[1].Data != nil {
		t.Fatalf("Scan = %+v, %v", recs, err)
	}
	recs, err = st.Scan(ctx, "task", stores.Range{})
	if err != nil || len(recs) != 0 {
		t.Fatalf("Scan without table = %+v, %v", recs, err)
	}
	if _, err := st.Scan(ctx, "task", stores.Range{}); !stores.IsTransient(err) {
		t.Fatalf("Scan on a dropped connection: %v, want transient", err)
	}
	checkMet(t, mock)
}

func TestChecksumStreamsLiveRows(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	mock.ExpectQuery(`SELECT TOP (@limit) CONVERT(NVARCHAR(255), t.[key]) AS [key], CONVERT(NVARCHAR(255), t.[client]) AS [client], t.[data] FROM [dbo].[task] AS t WHERE t.[key] > CONVERT(VARCHAR(255), @after COLLATE Latin1_General_100_BIN2_UTF8) AND t.[deleted] = 0 ORDER BY t.[key];`).
		WithArgs(sql.Named("after", mssqldb.NVarCharMax("")), sql.Named("limit", int64(2))).
		WillReturnRows(sqlmock.NewRows([]string{"key", "client", "data"}).
			AddRow("a", "acme", `{"b":1, "a":[1.0]}`).
			AddRow("b", "beta", `{"x":"y"}`))
	mock.ExpectQuery(`SELECT CONVERT(NVARCHAR(255), t.[key]) AS [key], CONVERT(NVARCHAR(255), t.[client]) AS [client], t.[data] FROM [dbo].[task] AS t WHERE t.[key] > CONVERT(VARCHAR(255), @after COLLATE Latin1_General_100_BIN2_UTF8) AND t.[deleted] = 0 ORDER BY t.[key];`).
		WithArgs(sql.Named("after", mssqldb.NVarCharMax(""))).
		WillReturnError(mssqldb.Error{Number: 208})

	got, err := st.Checksum(context.Background(), "task", stores.Range{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	want, err := stores.ChecksumRecords([]stores.Record{
		{Key: "a", Client: "acme", Data: json.RawMessage(`{"a":[1],"b":1}`)},
		{Key: "b", Client: "beta", Data: json.RawMessage(`{"x":"y"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) || got.LastKey != "b" {
		t.Fatalf("Checksum = %+v, want %+v", got, want)
	}
	empty, err := st.Checksum(context.Background(), "task", stores.Range{})
	if err != nil || empty.Count != 0 {
		t.Fatalf("Checksum without table = %+v, %v", empty, err)
	}
	checkMet(t, mock)
}

func TestEntitiesAndPrune(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	mock.ExpectQuery(`SELECT t.[name] FROM sys.tables AS t
WHERE t.[schema_id] = SCHEMA_ID(@schema) AND t.[name] <> N'switchyard_ledger'
    AND (SELECT COUNT(*) FROM sys.columns AS c WHERE c.[object_id] = t.[object_id] AND c.[name] IN (N'key', N'client', N'version', N'deleted', N'data', N'updated_at')) = 6;`).
		WithArgs(sql.Named("schema", "dbo")).
		WillReturnRows(sqlmock.NewRows([]string{"name"}).AddRow("task").AddRow("Legacy Table").AddRow("note"))
	cutoff := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))
	prune := `DELETE TOP (@batch) FROM [dbo].[switchyard_ledger] WHERE [recorded_at] < @cutoff;`
	// The cutoff is sent as datetime2(7) holding the UTC wall clock: the
	// type of [recorded_at], so the index on it is sought.
	utc := civil.DateTimeOf(time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC))
	mock.ExpectExec(prune).WithArgs(sql.Named("batch", int64(1000)), sql.Named("cutoff", utc)).WillReturnResult(sqlmock.NewResult(0, 1000))
	mock.ExpectExec(prune).WithArgs(sql.Named("batch", int64(1000)), sql.Named("cutoff", utc)).WillReturnResult(sqlmock.NewResult(0, 12))

	names, err := st.Entities(context.Background())
	if err != nil || strings.Join(names, ",") != "note,task" {
		t.Fatalf("Entities = %v, %v", names, err)
	}
	n, err := st.PruneLedger(context.Background(), cutoff)
	if err != nil || n != 1012 {
		t.Fatalf("PruneLedger = %d, %v", n, err)
	}
	checkMet(t, mock)
}

const pinnedTableExists = `SELECT OBJECT_ID(@object, N'U');`

func expectTableExists(mock sqlmock.Sqlmock, table string, exists bool) {
	id := sqlmock.NewRows([]string{"id"})
	if exists {
		id.AddRow(int64(12345))
	} else {
		id.AddRow(nil)
	}
	mock.ExpectQuery(pinnedTableExists).WithArgs(sql.Named("object", "[dbo].["+table+"]")).WillReturnRows(id)
}

// TestApplyAfterTableDroppedRecreates: an error 208 is read as a dropped
// table only once OBJECT_ID confirms a table is missing; that table is
// checked (and created) again on the retry.
func TestApplyAfterTableDroppedRecreates(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	statement := pinnedApplyHead + pinnedMerge("task", 0) + pinnedApplyTail
	writes := []stores.Write{{Entity: "task", Key: "a", Client: "acme", Version: 1, Data: json.RawMessage(`{}`)}}
	expectLedger(mock)
	expectPlainEntity(mock, "task")
	mock.ExpectQuery(statement).WillReturnError(mssqldb.Error{Number: 208, Message: "Invalid object name"})
	expectTableExists(mock, "switchyard_ledger", true)
	expectTableExists(mock, "task", false)
	expectPlainEntity(mock, "task") // checked again on the retry; the ledger was there
	mock.ExpectQuery(statement).WillReturnRows(sqlmock.NewRows([]string{"applied", "duplicates"}).AddRow(int64(1), int64(0)))
	if _, err := st.Apply(context.Background(), writes); !stores.IsTransient(err) || !strings.Contains(err.Error(), "table task was dropped") {
		t.Fatalf("Apply on a dropped table = %v, want transient", err)
	}
	if res, err := st.Apply(context.Background(), writes); err != nil || res.Applied != 1 {
		t.Fatalf("retry = %+v, %v", res, err)
	}
	checkMet(t, mock)
}

// TestApplyInvalidObjectWithTablesPresent: OPENJSON does not exist below
// compatibility level 130 and SQL Server reports it as error 208, the
// number of a missing table. With every table present, the 208 is not
// retried as a dropped table: a lowered level fails with a
// *CompatibilityLevelError naming the fix, any other 208 is permanent.
func TestApplyInvalidObjectWithTablesPresent(t *testing.T) {
	statement := pinnedApplyHead + pinnedMerge("task", 0) + pinnedApplyTail
	writes := []stores.Write{{Entity: "task", Key: "a", Client: "acme", Version: 1, Data: json.RawMessage(`{}`)}}
	invalid := mssqldb.Error{Number: 208, Message: "Invalid object name 'OPENJSON'."}

	t.Run("level lowered after open", func(t *testing.T) {
		st, mock := newTestStore(t, Config{})
		expectLedger(mock)
		expectPlainEntity(mock, "task")
		mock.ExpectQuery(statement).WillReturnError(invalid)
		expectTableExists(mock, "switchyard_ledger", true)
		expectTableExists(mock, "task", true)
		mock.ExpectQuery(pinnedServer).WillReturnRows(sqlmock.NewRows(serverColumns).AddRow(int64(3), int64(16), "16.0.4135.4", "app", int64(120)))
		_, err := st.Apply(context.Background(), writes)
		var cle *CompatibilityLevelError
		if !errors.As(err, &cle) || cle.Level != 120 || !errors.Is(err, ErrUnsupported) || stores.IsTransient(err) {
			t.Fatalf("err = %v, want a permanent CompatibilityLevelError for level 120", err)
		}
		if !strings.Contains(err.Error(), "ALTER DATABASE [app] SET COMPATIBILITY_LEVEL = 130") {
			t.Fatalf("err = %v, want the fix named", err)
		}
		checkMet(t, mock)
	})
	t.Run("other", func(t *testing.T) {
		st, mock := newTestStore(t, Config{})
		expectLedger(mock)
		expectPlainEntity(mock, "task")
		mock.ExpectQuery(statement).WillReturnError(invalid)
		expectTableExists(mock, "switchyard_ledger", true)
		expectTableExists(mock, "task", true)
		mock.ExpectQuery(pinnedServer).WillReturnRows(goodServer())
		_, err := st.Apply(context.Background(), writes)
		if err == nil || stores.IsTransient(err) || !strings.Contains(err.Error(), "not a dropped table") {
			t.Fatalf("err = %v, want a permanent error", err)
		}
		checkMet(t, mock)
	})
}
