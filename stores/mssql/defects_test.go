package mssql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	mssqldb "github.com/microsoft/go-mssqldb"

	"github.com/switchyard/switchyard/stores"
)

// TestReadsDecodeKeysAsUTF16: go-mssqldb decodes VARCHAR by the code page
// of the collation's sort id or LCID and ignores the UTF-8 flag, so a key
// column of Latin1_General_100_BIN2_UTF8 would read "é" as "Ã©". Every read
// selects the key and client converted to NVARCHAR, which the driver
// decodes as UTF-16, and compares and orders on the base column, qualified,
// so the order stays byte order and the index is used.
func TestReadsDecodeKeysAsUTF16(t *testing.T) {
	full, _ := rangeStatement(recordColumns, "[dbo].[task]", stores.Range{After: "a", Through: "b", Client: "c", Limit: 1}, false)
	sum, _ := rangeStatement(checksumColumns, "[dbo].[task]", stores.Range{}, true)
	for _, statement := range []string{getStatement("[dbo].[task]"), full, sum} {
		selected := statement[:strings.Index(statement, " FROM ")]
		if !strings.Contains(selected, "CONVERT(NVARCHAR(255), t.[key]) AS [key], CONVERT(NVARCHAR(255), t.[client]) AS [client]") {
			t.Errorf("keys and clients are not read as NVARCHAR:\n%s", statement)
		}
		for _, raw := range []string{"SELECT [key]", ", [client]", "ORDER BY [key]", "WHERE [key]", "AND [client]"} {
			if strings.Contains(statement, raw) {
				t.Errorf("statement names an unqualified key column (%q), which would be the NVARCHAR alias or the VARCHAR column undecoded:\n%s", raw, statement)
			}
		}
		if strings.Contains(statement, "ORDER BY") && !strings.HasSuffix(statement, " ORDER BY t.[key];") {
			t.Errorf("ordered by something other than the base column:\n%s", statement)
		}
	}

	// What the driver returns for the converted columns is what callers get.
	st, mock := newTestStore(t, Config{})
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mock.ExpectQuery(pinnedGet).WithArgs(sql.Named("key", mssqldb.NVarCharMax("café\U0001F600"))).WillReturnRows(
		sqlmock.NewRows(recordRows).AddRow("café\U0001F600", "clïent", int64(1), false, `{"é":"ü"}`, at))
	rec, err := st.Get(context.Background(), "task", "café\U0001F600")
	if err != nil || rec.Key != "café\U0001F600" || rec.Client != "clïent" {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
	checkMet(t, mock)
}

// TestTrailingSpaceValuesFindNothing: SQL Server pads the shorter string
// with spaces before it compares, so WHERE [key] = 'a ' finds the row "a".
// No key or client can end in a space (events.IdentifierProblem), so Get
// and a client filter with one answer not found / empty without asking
// the server; Apply refuses such writes before sending anything.
func TestTrailingSpaceValuesFindNothing(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	ctx := context.Background()
	for _, v := range []string{"a ", "a  ", " ", "a\x01", "a\u0085"} {
		_, err := st.Get(ctx, "task", v)
		if !errors.Is(err, stores.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", v, err)
		}
		if recs, err := st.Scan(ctx, "task", stores.Range{Client: v}); err != nil || recs != nil {
			t.Errorf("Scan with client %q = %v, %v, want nothing", v, recs, err)
		}
		var zero stores.Summer
		if sum, err := st.Checksum(ctx, "task", stores.Range{Client: v}); err != nil || !sum.Equal(zero.Checksum()) {
			t.Errorf("Checksum with client %q = %+v, %v", v, sum, err)
		}
	}
	if _, err := st.Get(ctx, "task", "a "); err == nil || !strings.Contains(err.Error(), "ends with a space") {
		t.Errorf("Get(\"a \") = %v, want the reason named", err)
	}
	ok := stores.Write{Entity: "task", Key: "a", Client: "acme", Version: 1, Data: json.RawMessage(`{}`)}
	for _, w := range []stores.Write{
		{Entity: "task", Key: "a ", Client: "acme", Version: 1, Data: json.RawMessage(`{}`)},
		{Entity: "task", Key: "b", Client: "acme ", Version: 1, Data: json.RawMessage(`{}`)},
		{Entity: "task", Key: "b", Client: "acme", Version: 1, Data: json.RawMessage(`{}`), EventID: "ev "},
	} {
		_, err := st.Apply(ctx, []stores.Write{ok, w})
		var rej *stores.RejectError
		if !errors.As(err, &rej) || rej.Index != 1 || !strings.Contains(rej.Reason, "ends with a space") {
			t.Errorf("Apply(%+v) = %v, want a RejectError for write 1", w, err)
		}
	}
	checkMet(t, mock) // nothing was sent
}

// TestRangeBoundsCompareExactly: padding compares a bound's bytes below
// 0x20 with a space, so "a" > 'a\x01' would hold on SQL Server while "a"
// sorts below "a\x01" in byte order. Such a bound is cut before that byte;
// for keys, which hold no such byte and no trailing space, the cut bound
// selects exactly what the whole one does in byte order.
func TestRangeBoundsCompareExactly(t *testing.T) {
	cases := map[string]string{
		"":          "",
		"a":         "a",
		"a b":       "a b",
		"a ":        "a ",
		"a\x01":     "a",
		"a \x1fz":   "a ",
		"\x00":      "",
		"é\tx":      "é",
		"a\u0085":   "a\u0085", // multi-byte: no byte below 0x20
		"abc\x7fde": "abc\x7fde",
	}
	for bound, want := range cases {
		if got := rangeBound(bound); got != want {
			t.Errorf("rangeBound(%q) = %q, want %q", bound, got, want)
		}
	}
	// The byte-order answer for keys the rule allows is kept.
	keys := []string{"a", "a!", "a b", "a\u00e9", "b", " a", "a a", "\u00e9"}
	for bound := range cases {
		cut := rangeBound(bound)
		for _, k := range keys {
			if (k > bound) != (k > cut) || (k <= bound) != (k <= cut) {
				t.Errorf("key %q: bound %q and cut %q disagree", k, bound, cut)
			}
			// SQL Server's padded comparison of k with the cut bound
			// gives the byte-order answer for the whole bound.
			if (padded(k, cut) > 0) != (k > bound) {
				t.Errorf("key %q > bound %q: byte order says %v, SQL Server with %q would say %v", k, bound, k > bound, cut, padded(k, cut) > 0)
			}
		}
	}

	st, mock := newTestStore(t, Config{})
	mock.ExpectQuery(`SELECT CONVERT(NVARCHAR(255), t.[key]) AS [key], CONVERT(NVARCHAR(255), t.[client]) AS [client], t.[version], t.[deleted], t.[data], t.[updated_at] FROM [dbo].[task] AS t`+
		` WHERE t.[key] > CONVERT(VARCHAR(255), @after COLLATE Latin1_General_100_BIN2_UTF8)`+
		` AND t.[key] <= CONVERT(VARCHAR(255), @through COLLATE Latin1_General_100_BIN2_UTF8)`+
		` ORDER BY t.[key];`).
		WithArgs(sql.Named("after", mssqldb.NVarCharMax("a")), sql.Named("through", mssqldb.NVarCharMax(""))).
		WillReturnRows(sqlmock.NewRows(recordRows))
	if _, err := st.Scan(context.Background(), "task", stores.Range{After: "a\x01", Through: "\x01"}); err != nil {
		t.Fatal(err)
	}
	checkMet(t, mock)
}

// padded compares a and b as SQL Server does: the shorter is padded with
// spaces first.
func padded(a, b string) int {
	for len(a) < len(b) {
		a += " "
	}
	for len(b) < len(a) {
		b += " "
	}
	return strings.Compare(a, b)
}

// TestOpenRefusesWhatCannotRunTheAdapter: the cheap checks run at open; an
// old server or a database below compatibility level 130 is refused with a
// typed error naming what was found and the fix.
func TestOpenRefusesWhatCannotRunTheAdapter(t *testing.T) {
	cases := []struct {
		name   string
		row    []driver.Value
		target any
		want   string
	}{
		{"level 120", []driver.Value{int64(3), int64(16), "16.0.4135.4", "app", int64(120)}, new(*CompatibilityLevelError),
			"database app is at compatibility level 120; Switchyard's batches use OPENJSON, which needs level 130 or higher: an operator must run ALTER DATABASE [app] SET COMPATIBILITY_LEVEL = 130"},
		{"SQL Server 2017", []driver.Value{int64(3), int64(14), "14.0.3456.2", "app", int64(140)}, new(*ServerVersionError),
			"SQL Server 14.0.3456.2 is older than SQL Server 2019 (15.x)"},
		{"SQL Server 2012 reports no major version on old builds", []driver.Value{int64(2), nil, "11.0.2100.60", "app", int64(110)}, new(*ServerVersionError),
			"SQL Server 11.0.2100.60 is older"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db, mock := newMock(t)
			mock.ExpectQuery(pinnedServer).WillReturnRows(sqlmock.NewRows(serverColumns).AddRow(tc.row...))
			_, err := New(context.Background(), db, Config{})
			if !errors.Is(err, ErrUnsupported) || stores.IsTransient(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want ErrUnsupported mentioning %q", err, tc.want)
			}
			switch target := tc.target.(type) {
			case **CompatibilityLevelError:
				if !errors.As(err, target) {
					t.Fatalf("%T is not a *CompatibilityLevelError", err)
				}
			case **ServerVersionError:
				if !errors.As(err, target) {
					t.Fatalf("%T is not a *ServerVersionError", err)
				}
			}
			checkMet(t, mock)
		})
	}
	for _, edition := range []int64{editionAzureSQLDatabase, editionManagedInstance} {
		db, mock := newMock(t)
		mock.ExpectQuery(pinnedServer).WillReturnRows(sqlmock.NewRows(serverColumns).AddRow(edition, int64(12), "12.0.2000.8", "app", int64(150)))
		if _, err := New(context.Background(), db, Config{}); err != nil {
			t.Errorf("Azure SQL (edition %d) refused: %v", edition, err)
		}
		checkMet(t, mock)
	}
}

// TestPlanStableParameterTypes: every string parameter compared with data
// is declared nvarchar(max) whatever its length, and the prune cutoff is a
// datetime2(7), so one plan serves every call. A plain Go string would be
// declared nvarchar(len) and a time.Time datetimeoffset(7).
func TestPlanStableParameterTypes(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	typed := func(name string) sqlmock.Argument {
		return typeArg{t: t, name: name}
	}
	mock.ExpectQuery(pinnedGet).WithArgs(typed("key")).WillReturnRows(sqlmock.NewRows(recordRows))
	mock.ExpectQuery(`SELECT TOP (@limit) CONVERT(NVARCHAR(255), t.[key]) AS [key], CONVERT(NVARCHAR(255), t.[client]) AS [client], t.[version], t.[deleted], t.[data], t.[updated_at] FROM [dbo].[task] AS t`+
		` WHERE t.[key] > CONVERT(VARCHAR(255), @after COLLATE Latin1_General_100_BIN2_UTF8)`+
		` AND t.[key] <= CONVERT(VARCHAR(255), @through COLLATE Latin1_General_100_BIN2_UTF8)`+
		` AND t.[client] = CONVERT(VARCHAR(255), @client COLLATE Latin1_General_100_BIN2_UTF8)`+
		` ORDER BY t.[key];`).
		WithArgs(typed("after"), sql.Named("limit", int64(10)), typed("through"), typed("client")).
		WillReturnRows(sqlmock.NewRows(recordRows))
	ctx := context.Background()
	if _, err := st.Get(ctx, "task", "k"); !errors.Is(err, stores.ErrNotFound) {
		t.Fatal(err)
	}
	if _, err := st.Scan(ctx, "task", stores.Range{After: "a", Through: "b", Client: "c", Limit: 10}); err != nil {
		t.Fatal(err)
	}
	checkMet(t, mock)
}

// typeArg matches a parameter sent as mssqldb.NVarCharMax.
type typeArg struct {
	t    *testing.T
	name string
}

func (a typeArg) Match(v driver.Value) bool {
	if _, ok := v.(mssqldb.NVarCharMax); !ok {
		a.t.Errorf("@%s is sent as %T, declared by the driver by its length; want mssqldb.NVarCharMax", a.name, v)
		return false
	}
	return true
}

// TestStatementsStayBelowLockEscalation: no statement of the apply batch
// or of the prune touches more than statementRows rows of one table, and
// at three locks per row and index that stays below the 5,000 locks at which
// SQL Server escalates to a table lock.
func TestStatementsStayBelowLockEscalation(t *testing.T) {
	if 3*statementRows >= 5000 || pruneBatch > statementRows {
		t.Fatalf("statementRows = %d, pruneBatch = %d: a statement could reach 5,000 locks", statementRows, pruneBatch)
	}
	statement := applyStatement("dbo", []string{"note", "task"})
	if n := strings.Count(statement, "WHILE @from < @count"); n != 3 {
		t.Errorf("%d chunk loops, want one for the ledger and one per entity", n)
	}
	if n := strings.Count(statement, "@from + 1000"); n != 4 {
		t.Errorf("%d statements bounded to 1,000 rows, want 4 (ledger read, ledger insert, two MERGEs)", n)
	}
	if !strings.Contains(statement, "FROM @ids AS i INNER LOOP JOIN [dbo].[switchyard_ledger] AS l WITH (UPDLOCK, HOLDLOCK, FORCESEEK) ON l.[id] = i.[id]") {
		t.Errorf("the ledger read is not a forced seek from the batch's ids:\n%s", statement)
	}
}
