package mssql

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	mssqldb "github.com/microsoft/go-mssqldb"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
)

// TestScanConvertsParameters pins the conversion of every range parameter
// to the key columns' type: compared as NVARCHAR, the parameter would
// outrank the VARCHAR column, which would then be converted row by row
// instead of sought in the index.
func TestScanConvertsParameters(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	mock.ExpectQuery(`SELECT CONVERT(NVARCHAR(255), t.[key]) AS [key], CONVERT(NVARCHAR(255), t.[client]) AS [client], t.[version], t.[deleted], t.[data], t.[updated_at] FROM [dbo].[task] AS t`+
		` WHERE t.[key] > CONVERT(VARCHAR(255), @after COLLATE Latin1_General_100_BIN2_UTF8)`+
		` AND t.[key] <= CONVERT(VARCHAR(255), @through COLLATE Latin1_General_100_BIN2_UTF8)`+
		` AND t.[client] = CONVERT(VARCHAR(255), @client COLLATE Latin1_General_100_BIN2_UTF8)`+
		` ORDER BY t.[key];`).
		WithArgs(sql.Named("after", mssqldb.NVarCharMax("\uff21")), sql.Named("through", mssqldb.NVarCharMax("\U0001F600x")), sql.Named("client", mssqldb.NVarCharMax("clïent"))).
		WillReturnRows(sqlmock.NewRows(recordRows))
	mock.ExpectQuery(`SELECT CONVERT(NVARCHAR(255), t.[key]) AS [key], CONVERT(NVARCHAR(255), t.[client]) AS [client], t.[data] FROM [dbo].[task] AS t`+
		` WHERE t.[key] > CONVERT(VARCHAR(255), @after COLLATE Latin1_General_100_BIN2_UTF8)`+
		` AND t.[key] <= CONVERT(VARCHAR(255), @through COLLATE Latin1_General_100_BIN2_UTF8)`+
		` AND t.[client] = CONVERT(VARCHAR(255), @client COLLATE Latin1_General_100_BIN2_UTF8)`+
		` AND t.[deleted] = 0 ORDER BY t.[key];`).
		WithArgs(sql.Named("after", mssqldb.NVarCharMax("a")), sql.Named("through", mssqldb.NVarCharMax("b")), sql.Named("client", mssqldb.NVarCharMax("acme"))).
		WillReturnRows(sqlmock.NewRows([]string{"key", "client", "data"}))

	ctx := context.Background()
	if recs, err := st.Scan(ctx, "task", stores.Range{After: "\uff21", Through: "\U0001F600x", Client: "clïent"}); err != nil || len(recs) != 0 {
		t.Fatalf("Scan = %+v, %v", recs, err)
	}
	if sum, err := st.Checksum(ctx, "task", stores.Range{After: "a", Through: "b", Client: "acme"}); err != nil || sum.Count != 0 {
		t.Fatalf("Checksum = %+v, %v", sum, err)
	}
	checkMet(t, mock)

	// No statement compares a key column with an unconverted parameter.
	// (@from is the apply batch's INT chunk counter, compared with integers.)
	bare := regexp.MustCompile(`\] (=|>|<=|>=|<) @([a-z]+)`)
	full, _ := rangeStatement(recordColumns, "[dbo].[task]", stores.Range{After: "a", Through: "b", Client: "c", Limit: 1}, true)
	for _, statement := range []string{full, getStatement("[dbo].[task]"), applyStatement("dbo", []string{"task"})} {
		for _, m := range bare.FindAllStringSubmatch(statement, -1) {
			if m[2] != "from" {
				t.Errorf("statement compares a column with a bare parameter (%q):\n%s", m[0], statement)
			}
		}
	}
}

// TestUnstorableValuesMatchNothing: a key or client that no write could
// store is answered without a statement, since converted to VARCHAR(255) it
// would be truncated and could match another row.
func TestUnstorableValuesMatchNothing(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	ctx := context.Background()
	long := strings.Repeat("日", 85) + "a" // 256 bytes
	for _, key := range []string{long, "a\xff"} {
		if _, err := st.Get(ctx, "task", key); !errors.Is(err, stores.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", key, err)
		}
		if recs, err := st.Scan(ctx, "task", stores.Range{Client: key}); err != nil || recs != nil {
			t.Errorf("Scan with client %q = %v, %v", key, recs, err)
		}
		var zero stores.Summer
		if sum, err := st.Checksum(ctx, "task", stores.Range{Client: key}); err != nil || !sum.Equal(zero.Checksum()) {
			t.Errorf("Checksum with client %q = %+v, %v", key, sum, err)
		}
	}
	if _, err := st.Get(ctx, "Bad Entity", long); !errors.Is(err, stores.ErrNoEntity) {
		t.Errorf("Get with a bad entity = %v, want ErrNoEntity", err)
	}
	checkMet(t, mock) // nothing was sent
}

// TestKeyLimitIsBytesOfUTF8: the key and client columns hold 255 bytes of
// UTF-8, the envelope's limit, whatever the characters' width.
func TestKeyLimitIsBytesOfUTF8(t *testing.T) {
	column, maxKey, maxClient := keyColumnBytes, events.MaxKeyBytes, events.MaxClientBytes
	if column != maxKey || column != maxClient || keyType != fmt.Sprintf("VARCHAR(%d)", column) {
		t.Fatalf("key columns are %s of %d bytes; the envelope allows keys of %d and clients of %d", keyType, column, maxKey, maxClient)
	}
	fits := []string{
		strings.Repeat("日", 85),                  // 255 bytes, 85 UTF-16 units
		strings.Repeat("\U0001F600", 63) + "abc", // 255 bytes, 129 UTF-16 units
		strings.Repeat("é", 127) + "x",           // 255 bytes
		strings.Repeat("a", 255),
	}
	for _, key := range fits {
		if len(key) != 255 {
			t.Fatalf("test key is %d bytes", len(key))
		}
		w := []stores.Write{{Entity: "task", Key: key, Client: key, Version: 1, Data: json.RawMessage(`{}`)}}
		if err := stores.Validate(w); err != nil {
			t.Errorf("stores.Validate refuses a 255-byte key: %v", err)
		}
		if err := checkWrites(w); err != nil {
			t.Errorf("checkWrites refuses a 255-byte key: %v", err)
		}
		w[0].Key += "a"
		var rej *stores.RejectError
		if err := stores.Validate(w); !errors.As(err, &rej) || !strings.Contains(rej.Reason, "key is 256 bytes") {
			t.Errorf("stores.Validate on a 256-byte key = %v", err)
		}
		w[0].Key = "k"
		w[0].Client += "a"
		if err := stores.Validate(w); !errors.As(err, &rej) || !strings.Contains(rej.Reason, "client is 256 bytes") {
			t.Errorf("stores.Validate on a 256-byte client = %v", err)
		}
	}

	// The whole path: a 255-byte key of three-byte characters is sent, one
	// byte more is refused before anything is sent.
	st, mock := newTestStore(t, Config{})
	expectLedger(mock)
	expectPlainEntity(mock, "task")
	key := fits[0]
	mock.ExpectQuery(pinnedApplyHead + pinnedMerge("task", 0) + pinnedApplyTail).
		WithArgs(payloadArg{t, batch{EventIDs: []string{}, Entities: [][]batchRow{{{Key: key, Client: "acme", Version: 1, Data: ptr(`{}`)}}}}}).
		WillReturnRows(sqlmock.NewRows([]string{"applied", "duplicates"}).AddRow(int64(1), int64(0)))
	res, err := st.Apply(context.Background(), []stores.Write{{Entity: "task", Key: key, Client: "acme", Version: 1, Data: json.RawMessage(`{}`)}})
	if err != nil || res.Applied != 1 {
		t.Fatalf("Apply of a 255-byte key = %+v, %v", res, err)
	}
	_, err = st.Apply(context.Background(), []stores.Write{{Entity: "task", Key: key + "a", Client: "acme", Version: 1, Data: json.RawMessage(`{}`)}})
	var rej *stores.RejectError
	if !errors.As(err, &rej) || rej.Index != 0 {
		t.Fatalf("Apply of a 256-byte key = %v, want a RejectError", err)
	}
	checkMet(t, mock)
}

// TestKeyFloorKeepsRanges: replacing a bound by keyFloor selects the same
// storable keys, and the replacement reaches the server unchanged.
func TestKeyFloorKeepsRanges(t *testing.T) {
	pad := strings.Repeat("a", 250)
	bounds := []string{
		"", "a", "\uff21", "\U0001F600",
		strings.Repeat("日", 85) + "a",             // 256 bytes
		pad + "bcd\U0001F600",                     // a 4-byte character across the limit
		pad + "bcde\u65e5",                        // 3 bytes, 1 left
		pad + "bc\u65e5",                          // 3 bytes, 3 left
		pad + "b\U0001F600",                       // 4 bytes, 4 left
		pad + "bcd\u00e9",                         // 2 bytes, 1 left
		strings.Repeat("z", 300),                  // ASCII only
		strings.Repeat("\U0010FFFF", 70),          // the greatest characters
		"a\xff", "a\x80b", "\xe6\x97", "\xc0\xaf", // not UTF-8
		"a\xed\xa0\x80", "ab\xf4\x90\x80\x80", // a surrogate, above U+10FFFF
		pad + "abcd\xff", pad + "abcde\xff",
	}
	for _, bound := range bounds {
		floor := keyFloor(bound)
		if !storable(floor) || floor > bound || (floor == "") != (bound == "") {
			t.Errorf("keyFloor(%q) = %q: not storable, above the bound, or empty", bound, floor)
			continue
		}
		if storable(bound) && floor != bound {
			t.Errorf("keyFloor(%q) = %q, want the bound itself", bound, floor)
		}
		for _, key := range keysAround(bound, floor) {
			if !storable(key) || key == "" {
				continue
			}
			if (key > bound) != (key > floor) || (key <= bound) != (key <= floor) {
				t.Errorf("key %q: bound %q and keyFloor %q disagree", key, bound, floor)
			}
		}
	}
}

// keysAround returns storable strings on both sides of bound and floor:
// their prefixes, each followed by characters of every width near the
// bytes that follow.
func keysAround(bound, floor string) []string {
	chars := []string{"\x00", "a", "\x7f", "\u0080", "\u00e9", "\u07ff", "\u0800", "\u65e5", "\ud7ff", "\ue000", "\uff21", "\uffff",
		"\U00010000", "\U0001F600", "\U0010FFFF"}
	var out []string
	for _, s := range []string{bound, floor} {
		for j := max(0, len(s)-12); j <= len(s) && j <= keyColumnBytes; j++ {
			prefix := s[:j]
			out = append(out, prefix)
			for _, c := range chars {
				out = append(out, prefix+c, prefix+c+"a", prefix+c+"\U0010FFFF")
			}
		}
	}
	return out
}

// TestScanBoundsBeyondTheColumn: bounds no key could equal are sent as
// their floor, so the conversion never truncates them.
func TestScanBoundsBeyondTheColumn(t *testing.T) {
	st, mock := newTestStore(t, Config{})
	long := strings.Repeat("a", 254) + "\u65e5" // 257 bytes
	want := strings.Repeat("a", 254) + "\x7f"
	mock.ExpectQuery(`SELECT CONVERT(NVARCHAR(255), t.[key]) AS [key], CONVERT(NVARCHAR(255), t.[client]) AS [client], t.[version], t.[deleted], t.[data], t.[updated_at] FROM [dbo].[task] AS t`+
		` WHERE t.[key] > CONVERT(VARCHAR(255), @after COLLATE Latin1_General_100_BIN2_UTF8)`+
		` AND t.[key] <= CONVERT(VARCHAR(255), @through COLLATE Latin1_General_100_BIN2_UTF8)`+
		` ORDER BY t.[key];`).
		WithArgs(sql.Named("after", mssqldb.NVarCharMax(want)), sql.Named("through", mssqldb.NVarCharMax("b"+strings.Repeat("\U0010FFFF", 63)+"\u07ff"))).
		WillReturnRows(sqlmock.NewRows(recordRows))
	if _, err := st.Scan(context.Background(), "task", stores.Range{After: long, Through: "b\xff"}); err != nil {
		t.Fatal(err)
	}
	checkMet(t, mock)
}
