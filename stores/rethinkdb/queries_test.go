package rethinkdb

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/stores"
)

// The expected terms below are written out independently of the code under
// test: a change to the ReQL this package sends must show up here.

var (
	app    = r.DB("app")
	ledger = app.Table("switchyard_ledger")
)

// on registers an expected query with the run options the store uses, so
// the mock's cursor returns TIME, BINARY and GEOMETRY values raw, as the
// server does for the store.
func on(mock *r.Mock, term r.Term) *r.MockQuery {
	return mock.On(term, map[string]any{"time_format": "raw", "binary_format": "raw", "geometry_format": "raw"})
}

// expectCopies answers a writer's look for copies of table with one row
// per id, all named table.
func expectCopies(mock *r.Mock, table string, ids ...string) {
	rows := make([]any, len(ids))
	for i, id := range ids {
		rows[i] = map[string]any{"id": id, "name": table}
	}
	on(mock, copiesTerm("app", table)).Return(rows, nil).Once()
}

func expectExistingLedger(mock *r.Mock) {
	on(mock, r.DBList().Contains("app")).Return(true, nil).Once()
	on(mock, app.TableList().Contains("switchyard_ledger")).Return(true, nil).Once()
	expectCopies(mock, "switchyard_ledger", "ledger-1")
	on(mock, ledger.Wait(r.WaitOpts{Timeout: 60})).Return(map[string]any{"ready": 1}, nil).Once()
	on(mock, ledger.Info().Field("primary_key")).Return("id", nil).Once()
	on(mock, ledger.IndexList().Contains("recorded_at")).Return(true, nil).Once()
	on(mock, ledger.IndexWait("recorded_at")).Return([]any{map[string]any{"ready": true}}, nil).Once()
}

func expectExistingTable(mock *r.Mock, table string) {
	on(mock, app.TableList().Contains(table)).Return(true, nil).Once()
	expectCopies(mock, table, table+"-1")
	on(mock, app.Table(table).Wait(r.WaitOpts{Timeout: 60})).Return(map[string]any{"ready": 1}, nil).Once()
	on(mock, app.Table(table).Info().Field("primary_key")).Return("id", nil).Once()
}

func newMockStore(t *testing.T) (*Store, *r.Mock) {
	t.Helper()
	mock := r.NewMock()
	expectExistingLedger(mock)
	st, err := New(context.Background(), mock, nil, Config{Database: "app", ChunkSize: 2})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return st, mock
}

func TestNewCreatesDatabaseLedgerAndIndex(t *testing.T) {
	mock := r.NewMock()
	on(mock, r.DBList().Contains("app")).Return(false, nil).Once()
	on(mock, r.DBCreate("app")).Return(map[string]any{"dbs_created": 1}, nil).Once()
	// A creator looks for a concurrent creator's duplicate: none here.
	on(mock, r.DB("rethinkdb").Table("db_config").Filter(map[string]any{"name": "app"}).Field("id")).Return([]any{"id-1"}, nil).Once()
	on(mock, app.TableList().Contains("switchyard_ledger")).Return(false, nil).Once()
	on(mock, app.TableCreate("switchyard_ledger", r.TableCreateOpts{PrimaryKey: "id"})).Return(map[string]any{"tables_created": 1}, nil).Once()
	expectCopies(mock, "switchyard_ledger", "id-2")
	on(mock, ledger.Wait(r.WaitOpts{Timeout: 60})).Return(map[string]any{"ready": 1}, nil).Once()
	on(mock, ledger.Info().Field("primary_key")).Return("id", nil).Once()
	on(mock, ledger.IndexList().Contains("recorded_at")).Return(false, nil).Once()
	on(mock, ledger.IndexCreate("recorded_at")).Return(map[string]any{"created": 1}, nil).Once()
	on(mock, ledger.IndexWait("recorded_at")).Return([]any{map[string]any{"ready": true}}, nil).Once()
	if _, err := New(context.Background(), mock, nil, Config{Database: "app"}); err != nil {
		t.Fatalf("New: %v", err)
	}
	mock.AssertExpectations(t)
}

func TestTableCreateRaceIsTolerated(t *testing.T) {
	st, mock := newMockStore(t)
	task := app.Table("task")
	on(mock, app.TableList().Contains("task")).Return(false, nil).Once()
	on(mock, app.TableCreate("task", r.TableCreateOpts{PrimaryKey: "id"})).Return(nil, r.RQLOpFailedError{}).Once()
	on(mock, app.TableList().Contains("task")).Return(true, nil).Once()
	// The winner's copy and this writer's: the later id is renamed, found
	// empty and dropped.
	taskConfig := r.DB("rethinkdb").Table("table_config")
	expectCopies(mock, "task", "bbbbbbbb-2", "aaaaaaaa-1")
	on(mock, taskConfig.Get("bbbbbbbb-2").Update(map[string]any{"name": "task_duplicate_bbbbbbbb"})).Return(map[string]any{"replaced": 1}, nil).Once()
	on(mock, app.Table("task_duplicate_bbbbbbbb").Wait(r.WaitOpts{Timeout: 60})).Return(map[string]any{"ready": 1}, nil).Once()
	on(mock, app.Table("task_duplicate_bbbbbbbb").Count()).Return(0, nil).Once()
	on(mock, app.TableDrop("task_duplicate_bbbbbbbb")).Return(map[string]any{"tables_dropped": 1}, nil).Once()
	on(mock, task.Wait(r.WaitOpts{Timeout: 60})).Return(map[string]any{"ready": 1}, nil).Once()
	on(mock, task.Info().Field("primary_key")).Return("id", nil).Once()
	if err := st.ensureTable(context.Background(), "task", "id"); err != nil {
		t.Fatalf("ensureTable: %v", err)
	}
	mock.AssertExpectations(t)
}

// TestAmbiguousDatabaseIsResolvedOnAFailedQuery: a query that fails with
// OP_FAILED while the database has a copy (which only a cluster makes)
// resolves it, as it does a table's, and runs again.
func TestAmbiguousDatabaseIsResolvedOnAFailedQuery(t *testing.T) {
	st, mock := newMockStore(t)
	dbConfig := r.DB("rethinkdb").Table("db_config")
	on(mock, dbConfig.Filter(map[string]any{"name": "app"}).Field("id")).Return([]any{"dddddddd-2", "cccccccc-1"}, nil).Once()
	on(mock, dbConfig.Get("dddddddd-2").Update(map[string]any{"name": "app_duplicate_dddddddd"})).Return(map[string]any{"replaced": 1}, nil).Once()
	on(mock, r.DB("app_duplicate_dddddddd").TableList().Count()).Return(0, nil).Once()
	on(mock, r.DBDrop("app_duplicate_dddddddd")).Return(map[string]any{"dbs_dropped": 1}, nil).Once()
	expectCopies(mock, "task", "aaaaaaaa-1")
	runs := 0
	err := st.retryAfterDuplicates(context.Background(), "task", func() error {
		if runs++; runs == 1 {
			return r.RQLOpFailedError{}
		}
		return nil
	})
	if err != nil || runs != 2 {
		t.Fatalf("retryAfterDuplicates = %v after %d runs, want success on the second", err, runs)
	}
	mock.AssertExpectations(t)
}

// TestFailedQueryWithoutCopies: an OP_FAILED with no copies in sight is
// tried once more, for a rename that was taking effect, and then returned
// as it was; and when the system tables cannot be read, the query's own
// error is returned, so it stays transient, with the reason attached.
func TestFailedQueryWithoutCopies(t *testing.T) {
	dbCopies := r.DB("rethinkdb").Table("db_config").Filter(map[string]any{"name": "app"}).Field("id")
	t.Run("no copies", func(t *testing.T) {
		st, mock := newMockStore(t)
		for range 2 {
			on(mock, dbCopies).Return([]any{"cccccccc-1"}, nil).Once()
			expectCopies(mock, "task", "aaaaaaaa-1")
		}
		runs := 0
		err := st.retryAfterDuplicates(context.Background(), "task", func() error {
			runs++
			return classify(r.RQLOpFailedError{})
		})
		if runs != 2 || !isOpFailed(err) || !stores.IsTransient(err) {
			t.Fatalf("after %d runs: %v; want 2 runs and the transient OP_FAILED", runs, err)
		}
		mock.AssertExpectations(t)
	})
	t.Run("no access to the system tables", func(t *testing.T) {
		st, mock := newMockStore(t)
		on(mock, dbCopies).Return(nil, r.RQLRuntimeError{}).Once()
		runs := 0
		err := st.retryAfterDuplicates(context.Background(), "task", func() error {
			runs++
			return classify(r.RQLOpFailedError{})
		})
		if runs != 1 || !isOpFailed(err) || !stores.IsTransient(err) || !strings.Contains(err.Error(), "resolving copies of task failed too") {
			t.Fatalf("after %d runs: %v; want 1 run and the transient OP_FAILED with the reason", runs, err)
		}
		mock.AssertExpectations(t)
	})
}

func TestPrimaryKeyMismatch(t *testing.T) {
	st, mock := newMockStore(t)
	task := app.Table("task")
	on(mock, app.TableList().Contains("task")).Return(true, nil).Once()
	expectCopies(mock, "task", "aaaaaaaa-1")
	on(mock, task.Wait(r.WaitOpts{Timeout: 60})).Return(map[string]any{"ready": 1}, nil).Once()
	on(mock, task.Info().Field("primary_key")).Return("uuid", nil).Once()
	err := st.ensureTable(context.Background(), "task", "id")
	if !errors.Is(err, stores.ErrSchemaMismatch) || !strings.Contains(err.Error(), `primary key "uuid"`) {
		t.Fatalf("err = %v, want ErrSchemaMismatch naming the key", err)
	}
}

// expectedApply is the fenced, hard-durable ForEach/Replace/Branch of one
// table, stamping the server's time.
func expectedApply(table string, items []any) r.Term {
	return r.Expr(items).ForEach(func(item r.Term) r.Term {
		return app.Table(table).Get(item.Field("doc").Field("id")).Replace(func(old r.Term) r.Term {
			return r.Branch(
				old.Eq(nil).Or(item.Field("absent").Not().And(old.Field("_switchyard_version").Default(0).Lt(item.Field("doc").Field("_switchyard_version")))),
				item.Field("doc").Merge(map[string]any{"_switchyard_updated_at": r.Now()}),
				old,
			)
		}, r.ReplaceOpts{Durability: "hard"})
	})
}

// sha is the ledger key of an event id, computed independently of
// ledgerDigest.
func sha(id string) string {
	sum := sha256.Sum256([]byte(id))
	return fmt.Sprintf("sha256:%x", sum)
}

// lookup is the ledger look-up of ids: by digest, and by the id itself for
// rows recorded before the ledger was keyed by digest.
func lookup(ids ...string) r.Term {
	var keys []any
	for _, id := range ids {
		keys = append(keys, sha(id))
	}
	for _, id := range ids {
		if len(id) <= 127 {
			keys = append(keys, id)
		}
	}
	return ledger.GetAll(keys...).Pluck("id", "event_id")
}

// found is a ledger row as the look-up returns it.
func found(id string) map[string]any { return map[string]any{"id": sha(id), "event_id": id} }

// record is the hard-durable ledger insert of ids.
func record(ids ...string) r.Term {
	var rows []any
	for _, id := range ids {
		rows = append(rows, map[string]any{"id": sha(id), "event_id": id, "recorded_at": r.Now()})
	}
	return ledger.Insert(rows, r.InsertOpts{Conflict: "replace", Durability: "hard"})
}

func TestApplyPinsOneQueryPerTable(t *testing.T) {
	st, mock := newMockStore(t)
	on(mock, lookup("e1", "e2", "e3")).Return([]any{found("e3")}, nil).Once()
	expectExistingTable(mock, "note")
	expectExistingTable(mock, "task")
	noteItems := []any{
		map[string]any{"absent": false, "doc": map[string]any{"id": "n1", "client": "acme", "_switchyard_version": float64(4), "_switchyard_deleted": true}},
	}
	taskItems := []any{
		// Key and client were missing from the data: added and listed.
		map[string]any{"absent": false, "doc": map[string]any{
			"title": "new", "tags": []any{"x", float64(2)}, "due": nil,
			"id": "a", "client": "acme", "_switchyard_added": []any{"id", "client"}, "_switchyard_version": float64(3)}},
		// The data carries its own key and client: nothing is added.
		map[string]any{"absent": true, "doc": map[string]any{
			"id": "b", "client": "acme", "nested": map[string]any{"n": float64(9007199254740992), "f": 0.5},
			"_switchyard_version": float64(1)}},
	}
	on(mock, expectedApply("note", noteItems)).Return(map[string]any{"inserted": 1}, nil).Once()
	on(mock, expectedApply("task", taskItems)).Return(map[string]any{"replaced": 1, "unchanged": 1}, nil).Once()
	// e4 lost to e1 in the plan: recorded, never looked up or counted.
	on(mock, record("e1", "e2", "e4")).Return(map[string]any{"inserted": 3}, nil).Once()

	res, err := st.Apply(context.Background(), []stores.Write{
		{Entity: "task", Key: "a", Client: "acme", Version: 2, Data: []byte(`{"title":"old"}`), EventID: "e4"},
		{Entity: "task", Key: "a", Client: "acme", Version: 3, Data: []byte(`{"title":"new","tags":["x",2],"due":null}`), EventID: "e1"},
		{Entity: "task", Key: "b", Client: "acme", Version: 1, Data: []byte(`{"id":"b","client":"acme","nested":{"n":9007199254740992,"f":0.5}}`), IfAbsent: true},
		{Entity: "task", Key: "c", Client: "acme", Version: 7, Data: []byte(`{}`), EventID: "e3"},
		{Entity: "note", Key: "n1", Client: "acme", Version: 4, Deleted: true, EventID: "e2"},
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	// a@2 lost to a@3 in the plan, e3 was in the ledger, and the server left
	// one document unchanged (the fence or the IfAbsent rule).
	if want := (stores.ApplyResult{Applied: 2, Skipped: 2, Duplicates: 1}); res != want {
		t.Fatalf("result = %+v, want %+v", res, want)
	}
	mock.AssertExpectations(t)
}

// TestApplyRecordsSupersededEventIDs: the id of a write that lost to a
// higher version of its key is recorded in the same ledger insert without
// being looked up or counted, so a late retry of it is a duplicate.
func TestApplyRecordsSupersededEventIDs(t *testing.T) {
	st, mock := newMockStore(t)
	expectExistingTable(mock, "task")
	newer := []any{map[string]any{"absent": false, "doc": map[string]any{
		"state": "newer", "id": "k", "client": "acme", "_switchyard_added": []any{"id", "client"}, "_switchyard_version": float64(7)}}}
	// First call: only the surviving id is looked up.
	on(mock, lookup("ev-newer")).Return([]any{}, nil).Once()
	on(mock, expectedApply("task", newer)).Return(map[string]any{"inserted": 1}, nil).Once()
	on(mock, record("ev-newer", "ev-older")).Return(map[string]any{"inserted": 2}, nil).Once()
	// The late retry, with a higher stream sequence: a duplicate, nothing
	// written. Its row predates the digest keys: found by the id itself.
	on(mock, lookup("ev-older")).Return([]any{map[string]any{"id": "ev-older"}}, nil).Once()
	// The pair redelivered: ev-newer is a duplicate, ev-older is recorded
	// again (replaced) but not counted.
	on(mock, lookup("ev-newer")).Return([]any{found("ev-newer")}, nil).Once()
	on(mock, record("ev-older")).Return(map[string]any{"replaced": 1}, nil).Once()

	ctx := context.Background()
	pair := []stores.Write{
		{Entity: "task", Key: "k", Client: "acme", Version: 5, Data: []byte(`{"state":"older"}`), EventID: "ev-older"},
		{Entity: "task", Key: "k", Client: "acme", Version: 7, Data: []byte(`{"state":"newer"}`), EventID: "ev-newer"},
	}
	res, err := st.Apply(ctx, pair)
	if want := (stores.ApplyResult{Applied: 1, Skipped: 1}); err != nil || res != want {
		t.Fatalf("two events of one key = %+v, %v; want %+v", res, err, want)
	}
	res, err = st.Apply(ctx, []stores.Write{
		{Entity: "task", Key: "k", Client: "acme", Version: 9, Data: []byte(`{"state":"older"}`), EventID: "ev-older"},
	})
	if want := (stores.ApplyResult{Duplicates: 1}); err != nil || res != want {
		t.Fatalf("late retry of the superseded event = %+v, %v; want %+v", res, err, want)
	}
	res, err = st.Apply(ctx, pair)
	if want := (stores.ApplyResult{Skipped: 1, Duplicates: 1}); err != nil || res != want {
		t.Fatalf("the pair redelivered = %+v, %v; want %+v", res, err, want)
	}
	mock.AssertExpectations(t)
}

func TestApplyRejectsBeforeSendingAnything(t *testing.T) {
	ok := stores.Write{Entity: "task", Key: "a", Client: "acme", Version: 1, Data: []byte(`{}`)}
	cases := []struct {
		name  string
		write stores.Write
		want  string
	}{
		{"big integer", stores.Write{Entity: "task", Key: "b", Client: "acme", Version: 1, Data: []byte(`{"n":{"deep":[9007199254740993]}}`)}, "data.n.deep[0]: number 9007199254740993 cannot be stored exactly"},
		{"huge number", stores.Write{Entity: "task", Key: "b", Client: "acme", Version: 1, Data: []byte(`{"n":1e400}`)}, "outside the range of a double"},
		{"pseudo-type", stores.Write{Entity: "task", Key: "b", Client: "acme", Version: 1, Data: []byte(`{"t":{"$reql_type$":"TIME"}}`)}, `data.t has the field "$reql_type$"`},
		{"bookkeeping field", stores.Write{Entity: "task", Key: "b", Client: "acme", Version: 1, Data: []byte(`{"_switchyard_version":3}`)}, `data has the field "_switchyard_version"`},
		{"long array", stores.Write{Entity: "task", Key: "b", Client: "acme", Version: 1, Data: []byte(`{"a":[` + strings.Repeat("0,", 100_000) + `0]}`)}, "array of 100001 elements"},
		{"key mismatch", stores.Write{Entity: "task", Key: "b", Client: "acme", Version: 1, Data: []byte(`{"id":"c"}`)}, `data field "id" is "c", but the key is "b"`},
		{"client mismatch", stores.Write{Entity: "task", Key: "b", Client: "acme", Version: 1, Data: []byte(`{"client":7}`)}, `data field "client" is 7 (not a string)`},
		{"long key", stores.Write{Entity: "task", Key: strings.Repeat("k", 128), Client: "acme", Version: 1, Data: []byte(`{}`)}, "at most 127"},
		{"big version", stores.Write{Entity: "task", Key: "b", Client: "acme", Version: 1<<53 + 1, Deleted: true}, "above 2^53"},
		{"ledger entity", stores.Write{Entity: "switchyard_ledger", Key: "b", Client: "acme", Version: 1, Data: []byte(`{}`)}, "reserved"},
		{"bad utf-8", stores.Write{Entity: "task", Key: "b", Client: "acme", Version: 1, Data: []byte("{\"s\":\"\xff\"}")}, "UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, mock := newMockStore(t)
			_, err := st.Apply(context.Background(), []stores.Write{ok, tc.write})
			var rej *stores.RejectError
			if !errors.As(err, &rej) || rej.Index != 1 || !strings.Contains(rej.Reason, tc.want) {
				t.Fatalf("err = %v, want a RejectError for write 1 mentioning %q", err, tc.want)
			}
			// The mock panics on any query it does not expect, and only New's
			// were expected.
			mock.AssertExpectations(t)
		})
	}
}

func TestApplyErrorsAreClassified(t *testing.T) {
	st, mock := newMockStore(t)
	expectExistingTable(mock, "task")
	items := []any{map[string]any{"absent": false, "doc": map[string]any{"id": "a", "client": "acme", "_switchyard_added": []any{"id", "client"}, "_switchyard_version": float64(1)}}}
	on(mock, expectedApply("task", items)).Return(nil, r.ErrConnectionClosed).Once()
	_, err := st.Apply(context.Background(), []stores.Write{{Entity: "task", Key: "a", Client: "acme", Version: 1, Data: []byte(`{}`)}})
	if !stores.IsTransient(err) {
		t.Fatalf("err = %v, want transient", err)
	}
	mock.AssertExpectations(t)
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err       error
		transient bool
	}{
		{r.ErrConnectionClosed, true},
		{r.ErrNoConnections, true},
		{r.ErrNoConnectionsStarted, true},
		{r.RQLConnectionError{}, true},
		{r.RQLOpFailedError{}, true},
		{r.RQLOpIndeterminateError{}, true},
		{fmt.Errorf("wrapped: %w", r.RQLTimeoutError{}), true},
		{r.RQLQueryLogicError{}, false},
		{context.DeadlineExceeded, false},
		{errors.New("boom"), false},
	}
	for _, tc := range cases {
		if got := stores.IsTransient(classify(tc.err)); got != tc.transient {
			t.Errorf("classify(%T %v) transient = %v, want %v", tc.err, tc.err, got, tc.transient)
		}
	}
}

func TestGetMapsDocuments(t *testing.T) {
	st, mock := newMockStore(t)
	task := app.Table("task")
	on(mock, task.Get("a")).Return(map[string]any{
		"id": "a", "client": "acme", "_switchyard_version": 7, "title": "x",
		"_switchyard_updated_at": map[string]any{"$reql_type$": "TIME", "epoch_time": 1767323045.123, "timezone": "+00:00"},
		"when":                   map[string]any{"$reql_type$": "TIME", "epoch_time": 1767323045.123, "timezone": "+02:00"},
		"utc":                    map[string]any{"$reql_type$": "TIME", "epoch_time": 1767323045, "timezone": "+00:00"},
		"blob":                   map[string]any{"$reql_type$": "BINARY", "data": "AAEC/w=="},
		"where":                  map[string]any{"$reql_type$": "GEOMETRY", "type": "Point", "coordinates": []any{-122.4, 37.7}},
		"list":                   []any{1, "two", map[string]any{"n": nil}},
	}, nil).Once()
	on(mock, task.Get("added")).Return(map[string]any{
		"id": "added", "client": "acme", "_switchyard_version": 2, "_switchyard_added": []any{"id", "client"}, "v": 1,
	}, nil).Once()
	on(mock, task.Get("legacy")).Return(map[string]any{"id": "legacy", "client": "acme", "name": "n"}, nil).Once()
	on(mock, task.Get("gone")).Return(map[string]any{"id": "gone", "client": "acme", "_switchyard_version": 9, "_switchyard_deleted": true}, nil).Once()
	on(mock, task.Get("none")).Return(nil, nil).Once()
	on(mock, app.Table("nope").Get("a")).Return(nil, r.RQLOpFailedError{}).Once()
	on(mock, app.TableList().Contains("nope")).Return(false, nil).Once()

	ctx := context.Background()
	rec, err := st.Get(ctx, "task", "a")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"blob":"AAEC/w==","client":"acme","id":"a","list":[1,"two",{"n":null}],"title":"x","utc":"2026-01-02T03:04:05Z","when":"2026-01-02T05:04:05.123+02:00","where":{"coordinates":[-122.4,37.7],"type":"Point"}}`
	if rec.Key != "a" || rec.Client != "acme" || rec.Version != 7 || rec.Deleted || string(rec.Data) != want ||
		!rec.UpdatedAt.Equal(time.UnixMilli(1767323045123)) {
		t.Fatalf("Get = %+v\ndata %s\nwant %s", rec, rec.Data, want)
	}
	rec, err = st.Get(ctx, "task", "added")
	if err != nil || string(rec.Data) != `{"v":1}` || rec.Client != "acme" || rec.Version != 2 {
		t.Fatalf("Get(added) = %+v %s, %v; want the data as written", rec, rec.Data, err)
	}
	rec, err = st.Get(ctx, "task", "legacy")
	if err != nil || rec.Version != 0 || string(rec.Data) != `{"client":"acme","id":"legacy","name":"n"}` {
		t.Fatalf("Get(legacy) = %+v %s, %v; want version 0 and the whole document", rec, rec.Data, err)
	}
	rec, err = st.Get(ctx, "task", "gone")
	if err != nil || !rec.Deleted || rec.Data != nil || rec.Version != 9 {
		t.Fatalf("Get(gone) = %+v, %v", rec, err)
	}
	if _, err := st.Get(ctx, "task", "none"); !errors.Is(err, stores.ErrNotFound) {
		t.Fatalf("Get(none) = %v, want ErrNotFound", err)
	}
	if _, err := st.Get(ctx, "nope", "a"); !errors.Is(err, stores.ErrNoEntity) {
		t.Fatalf("Get(nope) = %v, want ErrNoEntity", err)
	}
	if _, err := st.Get(ctx, "task", strings.Repeat("k", 128)); !errors.Is(err, stores.ErrNotFound) {
		t.Fatalf("Get(long key) = %v, want ErrNotFound without a query", err)
	}
	if _, err := st.Get(ctx, "Bad Name", "a"); !errors.Is(err, stores.ErrNoEntity) {
		t.Fatalf("Get(bad name) = %v, want ErrNoEntity", err)
	}
	mock.AssertExpectations(t)
}

// expectedRange is the keyset scan: Between on the primary index, OrderBy
// the same index, Limit.
func expectedRange(after string, through any, limit int, filters ...func(r.Term) r.Term) r.Term {
	term := app.Table("task").
		Between(after, through, r.BetweenOpts{Index: "id", LeftBound: "open", RightBound: "closed"}).
		OrderBy(r.OrderByOpts{Index: "id"})
	for _, f := range filters {
		term = term.Filter(f)
	}
	return term.Limit(limit)
}

func clientIs(c string) func(r.Term) r.Term {
	return func(doc r.Term) r.Term { return doc.Field("client").Default(nil).Eq(c) }
}

func live(doc r.Term) r.Term { return doc.Field("_switchyard_deleted").Default(false).Ne(true) }

// firstChunk is a scan's first query: the chunk and at most one key that
// is not a string (those sort before "").
func firstChunk(rangeTerm r.Term) r.Term {
	return r.Expr(map[string]any{
		"docs": rangeTerm.CoerceTo("array"),
		"odd":  app.Table("task").Between(r.MinVal, "", r.BetweenOpts{Index: "id"}).Limit(1).Field("id").CoerceTo("array"),
	})
}

func chunkResult(docs ...any) map[string]any {
	return map[string]any{"docs": append([]any{}, docs...), "odd": []any{}}
}

func doc(key string, extra ...any) map[string]any {
	d := map[string]any{"id": key, "client": "acme", "_switchyard_version": 1}
	for i := 0; i+1 < len(extra); i += 2 {
		d[extra[i].(string)] = extra[i+1]
	}
	return d
}

func TestScanReadsInChunks(t *testing.T) {
	st, mock := newMockStore(t) // chunk size 2
	on(mock, firstChunk(expectedRange("", r.MaxVal, 2))).Return(chunkResult(doc("a"), doc("b", "_switchyard_deleted", true)), nil).Once()
	on(mock, expectedRange("b", r.MaxVal, 2)).Return([]any{doc("c")}, nil).Once()
	on(mock, firstChunk(expectedRange("a", "m", 2, clientIs("acme")))).Return(chunkResult(doc("b"), doc("c")), nil).Once()
	on(mock, expectedRange("c", "m", 1, clientIs("acme"))).Return([]any{doc("d")}, nil).Once()

	ctx := context.Background()
	recs, err := st.Scan(ctx, "task", stores.Range{})
	if err != nil || len(recs) != 3 || recs[0].Key != "a" || !recs[1].Deleted || recs[2].Key != "c" {
		t.Fatalf("Scan = %+v, %v", recs, err)
	}
	recs, err = st.Scan(ctx, "task", stores.Range{After: "a", Through: "m", Client: "acme", Limit: 3})
	if err != nil || len(recs) != 3 || recs[2].Key != "d" {
		t.Fatalf("Scan with bounds = %+v, %v", recs, err)
	}
	mock.AssertExpectations(t)
}

func TestChecksumSkipsTombstonesServerSide(t *testing.T) {
	st, mock := newMockStore(t)
	on(mock, firstChunk(expectedRange("", r.MaxVal, 2, live))).Return(chunkResult(doc("a", "x", 1.0), doc("b", "t", map[string]any{"$reql_type$": "TIME", "epoch_time": 0, "timezone": "+00:00"})), nil).Once()
	on(mock, expectedRange("b", r.MaxVal, 2, live)).Return([]any{}, nil).Once()
	got, err := st.Checksum(context.Background(), "task", stores.Range{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := stores.ChecksumRecords([]stores.Record{
		{Key: "a", Client: "acme", Data: []byte(`{"client":"acme","id":"a","x":1}`)},
		{Key: "b", Client: "acme", Data: []byte(`{"client":"acme","id":"b","t":"1970-01-01T00:00:00Z"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) || got.LastKey != "b" {
		t.Fatalf("Checksum = %+v, want %+v", got, want)
	}
	mock.AssertExpectations(t)
}

func TestEntitiesAndPrune(t *testing.T) {
	st, mock := newMockStore(t)
	on(mock, app.TableList()).Return([]any{"task", "switchyard_ledger", "Legacy-Table", "note"}, nil).Once()
	cutoff := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	on(mock, ledger.Between(r.MinVal, cutoff, r.BetweenOpts{Index: "recorded_at"}).Delete(r.DeleteOpts{Durability: "hard"})).Return(map[string]any{"deleted": 42}, nil).Once()
	names, err := st.Entities(context.Background())
	if err != nil || strings.Join(names, ",") != "note,task" {
		t.Fatalf("Entities = %v, %v", names, err)
	}
	n, err := st.PruneLedger(context.Background(), cutoff)
	if err != nil || n != 42 {
		t.Fatalf("PruneLedger = %d, %v", n, err)
	}
	mock.AssertExpectations(t)
}

func TestQueriesCarryTheContext(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "mine")
	opts := runOpts(ctx)
	if opts.Context != ctx || opts.TimeFormat != "raw" || opts.BinaryFormat != "raw" || opts.GeometryFormat != "raw" {
		t.Fatalf("runOpts = %+v", opts)
	}
}

// TestApplySplitsByBytesAndRows: a call whose writes would exceed the rows
// or bytes of one query is sent as several queries, each within both
// limits, and so are its ledger ids.
func TestApplySplitsByBytesAndRows(t *testing.T) {
	st, mock := newMockStore(t)
	st.limits = queryLimits{bytes: 700, rows: 3}
	expectExistingTable(mock, "task")
	item := func(key, text string) any {
		return map[string]any{"absent": false, "doc": map[string]any{
			"text": text, "id": key, "client": "acme", "_switchyard_added": []any{"id", "client"}, "_switchyard_version": float64(1)}}
	}
	big := strings.Repeat("x", 300)
	// Rows: a, b, c fill one query; bytes: d and e are too big to share one.
	// The ledger's look-ups and inserts are split by rows too.
	on(mock, lookup("e1", "e2", "e3")).Return([]any{}, nil).Once()
	on(mock, lookup("e4", "e5")).Return([]any{}, nil).Once()
	on(mock, expectedApply("task", []any{item("a", ""), item("b", ""), item("c", "")})).Return(map[string]any{"inserted": 3}, nil).Once()
	on(mock, expectedApply("task", []any{item("d", big)})).Return(map[string]any{"inserted": 1}, nil).Once()
	on(mock, expectedApply("task", []any{item("e", big)})).Return(map[string]any{"inserted": 1}, nil).Once()
	on(mock, record("e1", "e2", "e3")).Return(map[string]any{"inserted": 3}, nil).Once()
	on(mock, record("e4", "e5")).Return(map[string]any{"inserted": 2}, nil).Once()
	var writes []stores.Write
	for i, k := range []string{"a", "b", "c", "d", "e"} {
		text := ""
		if k == "d" || k == "e" {
			text = big
		}
		writes = append(writes, stores.Write{Entity: "task", Key: k, Client: "acme", Version: 1,
			Data: []byte(fmt.Sprintf(`{"text":%q}`, text)), EventID: fmt.Sprintf("e%d", i+1)})
	}
	res, err := st.Apply(context.Background(), writes)
	if want := (stores.ApplyResult{Applied: 5}); err != nil || res != want {
		t.Fatalf("Apply = %+v, %v; want %+v", res, err, want)
	}
	mock.AssertExpectations(t)

	// One document above the byte limit can never be sent: rejected.
	huge := stores.Write{Entity: "task", Key: "h", Client: "acme", Version: 1, Data: []byte(`{"text":"` + strings.Repeat("y", 800) + `"}`)}
	if _, err := st.Apply(context.Background(), []stores.Write{huge}); !errors.Is(err, stores.ErrRejected) {
		t.Fatalf("Apply(document above the query limit) = %v, want ErrRejected", err)
	}
}
