package migrator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	_ "github.com/switchyard/switchyard/stores/rethinkdb"
	"github.com/switchyard/switchyard/subscriptions"
)

// legacyDoc is a document the application wrote into its RethinkDB table
// itself, before the migration: Switchyard never saw it as an event.
type legacyDoc struct {
	key, client string
	doc         map[string]any
}

// legacyDocuments are the application's documents: ASCII and non-ASCII
// keys (é, 日本, emoji) and clients, and the application's own "version"
// (an optimistic-lock counter) and "deleted" (a soft-delete flag) fields.
// Both are application data: a soft-deleted document is a live record.
func legacyDocuments() []legacyDoc {
	prefixes := []string{"legacy-", "é-", "日本-", "🦀-"}
	clients := []string{"acme", "globex", "Müller GmbH"}
	out := make([]legacyDoc, 0, 240)
	for i := range 240 {
		key := fmt.Sprintf("%s%03d", prefixes[i%len(prefixes)], i)
		client := clients[i%len(clients)]
		doc := map[string]any{"id": key, "client": client, "title": fmt.Sprintf("légacy tâche %d", i),
			"tags": []any{"imported", "ü"}, "estimate": map[string]any{"hours": i % 9, "naïve": true}}
		switch i % 8 {
		case 0, 1, 2:
			doc["version"], doc["deleted"] = i%5+1, false
		case 3: // soft-deleted: 30 of the 240
			doc["version"], doc["deleted"] = 7, true
		case 4:
			doc["version"] = 1
		case 5:
			doc["deleted"] = false
		}
		out = append(out, legacyDoc{key: key, client: client, doc: doc})
	}
	return out
}

func (d legacyDoc) json(t testing.TB) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(d.doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// changed returns a copy of d whose document is changed by edit.
func (d legacyDoc) changed(edit func(doc map[string]any)) legacyDoc {
	d.doc = maps.Clone(d.doc)
	edit(d.doc)
	return d
}

// writeLegacyTable creates database.table as the application did and
// inserts docs directly, with hard durability, not through Switchyard.
func writeLegacyTable(t testing.TB, admin *r.Session, database, table string, docs []legacyDoc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := r.RunOpts{Context: ctx}
	if _, err := r.DBCreate(database).RunWrite(admin, opts); err != nil {
		t.Fatalf("create legacy database %s: %v", database, err)
	}
	if _, err := r.DB(database).TableCreate(table).RunWrite(admin, opts); err != nil {
		t.Fatalf("create legacy table %s.%s: %v", database, table, err)
	}
	rows := make([]any, len(docs))
	for i, d := range docs {
		rows[i] = d.doc
	}
	res, err := r.DB(database).Table(table).Insert(rows, r.InsertOpts{Durability: "hard"}).RunWrite(admin, opts)
	if err != nil || res.Inserted != len(docs) {
		t.Fatalf("insert %d legacy documents: inserted %d, %v", len(docs), res.Inserted, err)
	}
}

// rawDocuments reads database.table as the legacy application sees it.
func rawDocuments(t testing.TB, admin *r.Session, database, table string) map[string]map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cur, err := r.DB(database).Table(table).Run(admin, r.RunOpts{Context: ctx})
	if err != nil {
		t.Fatalf("read legacy table %s.%s: %v", database, table, err)
	}
	defer cur.Close()
	var docs []map[string]any
	if err := cur.All(&docs); err != nil {
		t.Fatalf("read legacy table %s.%s: %v", database, table, err)
	}
	out := make(map[string]map[string]any, len(docs))
	for _, d := range docs {
		key, _ := d["id"].(string)
		out[key] = d
	}
	return out
}

// openStore opens dsn in role and closes it when the test ends.
func openStore(t testing.TB, dsn string, role stores.Role) stores.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := all.OpenRole(ctx, dsn, role)
	if err != nil {
		t.Fatalf("open %s as %s: %v", stores.Redact(dsn), role, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// appEvents publishes the application's own changes of legacy documents
// (nil doc: a delete), in order, and records them in the producer's model.
// Their ids are 251 bytes long, near the limit of events.IdentifierProblem,
// and not ASCII: each store's ledger must record them.
func appEvents(t testing.TB, p *producer, docs ...legacyDoc) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	evs := make([]events.Event, 0, len(docs))
	for _, d := range docs {
		p.seq++
		ev := events.Event{ID: fmt.Sprintf("app-%06d-%s", p.seq, strings.Repeat("é", 120)), Type: "task.saved", Entity: p.entity, Key: d.key,
			Client: d.client, Op: events.OpUpsert, OccurredAt: time.Now().UTC()}
		if d.doc == nil {
			ev.Op, ev.Type = events.OpDelete, "task.deleted"
		} else {
			ev.Data = d.json(t)
		}
		evs = append(evs, ev)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.publish(ctx, evs); err != nil {
		t.Fatal(err)
	}
}

func bump(doc map[string]any) {
	v, _ := doc["version"].(int)
	doc["version"] = v + 1
	doc["title"] = fmt.Sprintf("%v, edited", doc["title"])
}

// TestMigrationFromRethinkDB migrates an application from RethinkDB to
// PostgreSQL while it keeps writing. The application's documents exist in
// RethinkDB before the target subscription starts, some with non-ASCII
// keys and clients, some with their own "version" and "deleted" fields; the
// legacy subscription writes the events into RethinkDB, the target
// subscription into PostgreSQL. The backfill reads RethinkDB with
// read-only credentials, is cancelled mid-copy twice and resumed; verify is
// clean while events flow; cleanup removes the legacy subscription. Both
// stores then equal the model (the documents, then every event), the
// soft-deleted documents are live records with their fields intact, and
// the documents no event touched are exactly as the application wrote them.
func TestMigrationFromRethinkDB(t *testing.T) {
	addr, database := testenv.RethinkDB(t)
	ctx := context.Background()
	began := time.Now()
	phase := func(what string) { t.Logf("%6.1fs %s", time.Since(began).Seconds(), what) }
	const entity = "tasks"
	admin := testenv.RethinkDBAdmin(t, addr)
	docs := legacyDocuments()
	writeLegacyTable(t, admin, database, entity, docs)
	// The backfill and verify read the legacy database with read-only
	// credentials; opening it must write nothing there, not even in a
	// database no Switchyard process has touched yet.
	sourceDSN := "rethinkdb://" + testenv.RethinkDBReader(t, admin, database).String() + "@" + addr + "/" + database
	source := openStore(t, sourceDSN, stores.RoleSource)
	if got := testenv.RethinkDBTables(t, admin, database); !slices.Equal(got, []string{entity}) {
		t.Fatalf("opening the legacy database read-only left the tables %v, want only the application's %q", got, entity)
	}
	targetDSN := testenv.Postgres(t)
	target := openStore(t, targetDSN, stores.RoleTarget)

	e := newEnv(t)
	if _, err := subscriptions.EnsureDLQ(ctx, e.js, testStream); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, e.js, entity)
	for _, d := range docs {
		p.model.seed(d.key, d.client, d.json(t))
	}

	// The legacy subscription writes as the application does, with write
	// access to the legacy database.
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	legacy := openStore(t, "rethinkdb://"+addr+"/"+database, stores.RoleTarget)
	startWorker(t, e.js, legacyName, legacy)
	const keys = 1500
	p.create(keys)
	touched := map[string]bool{}
	change := func(ds ...legacyDoc) {
		for _, d := range ds {
			touched[d.key] = true
		}
		appEvents(t, p, ds...)
	}
	deleted := func(d legacyDoc) legacyDoc { d.doc = nil; return d }
	// Before the target subscription exists: an edit (the application's
	// counter goes up), a soft delete, a hard delete, an edit of a
	// non-ASCII key, and new non-ASCII keys.
	change(
		docs[0].changed(bump),
		docs[1].changed(func(doc map[string]any) { bump(doc); doc["deleted"] = true }),
		deleted(docs[2]),
		docs[6].changed(bump),
		legacyDoc{key: "é-new", client: "Müller GmbH", doc: map[string]any{"title": "née", "version": 1, "deleted": false}},
		legacyDoc{key: "🦀-new", client: "acme", doc: map[string]any{"title": "crab", "version": 1}},
	)

	// The target subscription joins the running system.
	e.consumer(targetName, "target", subscriptions.StartNew)
	startWorker(t, e.js, targetName, target)
	change(
		docs[3].changed(func(doc map[string]any) { bump(doc); doc["deleted"] = false }), // restored
		docs[11].changed(bump), // stays soft-deleted
		deleted(docs[9]),
		docs[10].changed(bump),
	)
	// Both subscriptions apply every event so far, the long ids among them.
	drained(t, e.js, legacyName)
	drained(t, e.js, targetName)
	phase("both subscriptions applied the events so far")
	prodCtx, stopProducer := context.WithCancel(ctx)
	defer stopProducer()
	prodDone := make(chan error, 1)
	go func() { prodDone <- p.run(prodCtx, 2, keys) }()

	cleanupCfg := CleanupConfig{JS: e.js, State: e.state, Stream: testStream, LegacyConsumer: legacyName}
	if _, err := Cleanup(ctx, cleanupCfg); !errors.Is(err, ErrGateFailed) {
		t.Fatalf("cleanup before the backfill: %v, want ErrGateFailed", err)
	}
	legacyTables := testenv.RethinkDBTables(t, admin, database)
	backfillKilledAndResumed(t, e, 2, func() BackfillConfig {
		cfg := e.backfillConfig(source, target, entity)
		cfg.SourceName, cfg.TargetName = sourceDSN, targetDSN
		cfg.MaxRate = 600
		return cfg
	})
	phase("backfill complete after two cancellations")
	change(docs[0].changed(func(doc map[string]any) { bump(doc); bump(doc) }), deleted(legacyDoc{key: "é-new", client: "Müller GmbH"}))

	var findings bytes.Buffer
	vcfg := e.verifyConfig(source, target, &findings, entity)
	vcfg.SourceName, vcfg.TargetName = sourceDSN, targetDSN
	vcfg.SettleTimeout = 30 * time.Second
	res, err := Verify(ctx, vcfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Differences != 0 || !res.Clean {
		t.Fatalf("verify RethinkDB against PostgreSQL under load: %+v\n%s", res, findings.String())
	}
	phase(fmt.Sprintf("verify clean: %d rows, %d keys settled", res.RowsSource, res.Settled))
	stopProducer()
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	drained(t, e.js, legacyName)
	drained(t, e.js, targetName)
	for _, consumer := range []string{legacyName, targetName} {
		if n, err := subscriptions.DeadLetterDepth(ctx, e.js, testStream, consumer); err != nil || n != 0 {
			t.Fatalf("%s subscription: %d dead letters (%v), want none: every event is valid for both stores", consumer, n, err)
		}
	}

	phase("both subscriptions drained")
	rec, err := Cleanup(ctx, cleanupCfg)
	if err != nil {
		t.Fatalf("cleanup after a clean verify: %v", err)
	}
	if rec.Forced {
		t.Fatalf("cleanup record %+v", rec)
	}
	if _, err := subscriptions.Inspect(ctx, e.js, testStream, legacyName); !errors.Is(err, subscriptions.ErrNotFound) {
		t.Fatalf("legacy consumer after cleanup: %v", err)
	}
	if ph, _ := e.state.Phase(ctx); ph.Phase != PhaseCleanedUp {
		t.Fatalf("phase %s, want cleaned-up", ph.Phase)
	}

	// The final tables: both equal the model.
	p.model.check(t, legacy, entity)
	p.model.check(t, target, entity)
	if got := testenv.RethinkDBTables(t, admin, database); !slices.Equal(got, legacyTables) {
		t.Fatalf("the legacy database's tables went from %v to %v while the backfill and verify read it", legacyTables, got)
	}
	// What the application sees in RethinkDB: the documents no event touched
	// are exactly as it wrote them; every live record holds its fields.
	raw := rawDocuments(t, admin, database, entity)
	bad := 0
	report := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format, args...)
		if bad++; bad > 10 {
			t.Fatal("too many legacy documents differ from what the application wrote")
		}
	}
	for _, d := range docs {
		if touched[d.key] {
			continue
		}
		if !sameJSONValue(t, raw[d.key], d.doc) {
			report("legacy document %q changed although no event touched it:\n got %v\nwant %v", d.key, raw[d.key], d.doc)
		}
	}
	p.model.mu.Lock()
	defer p.model.mu.Unlock()
	for key, want := range p.model.rows {
		if want.deleted {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal(want.data, &fields); err != nil {
			t.Fatal(err)
		}
		for name, value := range fields {
			if got, ok := raw[key][name]; !ok || !sameJSONValue(t, got, value) {
				report("legacy document %q: field %q is %v (present %v), the application wrote %v", key, name, got, ok, value)
			}
		}
	}
}

// sameJSONValue compares two decoded JSON values by their canonical form,
// so 3 and 3.0 agree.
func sameJSONValue(t testing.TB, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatalf("marshal %v, %v: %v %v", a, b, err1, err2)
	}
	ca, err1 := stores.Canonical(ja)
	cb, err2 := stores.Canonical(jb)
	return err1 == nil && err2 == nil && bytes.Equal(ca, cb)
}
