package migrator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	_ "github.com/switchyard/switchyard/stores/sqlite"
	"github.com/switchyard/switchyard/subscriptions"
)

const (
	testStream = "EVENTS"
	legacyName = "legacy"
	targetName = "target"
)

// env is one test's NATS server, stream, consumers and state bucket.
type env struct {
	t     *testing.T
	srv   *testenv.NATSServer
	js    jetstream.JetStream
	state *State
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	ctx := context.Background()
	if _, err := subscriptions.EnsureStream(ctx, js, subscriptions.StreamSpec{Name: testStream, Subjects: []string{"events.>"}}); err != nil {
		t.Fatal(err)
	}
	st, err := OpenState(ctx, js, "")
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, js: js, state: st}
}

// consumer creates a durable consumer on the test stream.
func (e *env) consumer(name, role string, start subscriptions.StartKind) {
	e.t.Helper()
	if _, err := subscriptions.EnsureConsumer(context.Background(), e.js, subscriptions.ConsumerSpec{
		Stream: testStream, Name: name, Role: role, Start: subscriptions.StartPosition{Kind: start},
	}); err != nil {
		e.t.Fatal(err)
	}
}

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// sqliteStore opens a fresh SQLite file store, closed when the test ends.
func sqliteStore(t testing.TB, name string) (stores.Store, string) {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), name+".db")
	st, err := all.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, dsn
}

func doc(key string, n int64) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"title":"task %s","n":%d}`, key, n))
}

func keyOf(i int) string { return fmt.Sprintf("k%06d", i) }

// seed writes n live rows k000000.. at version 10, client c<i%3>.
func seed(t testing.TB, st stores.Writer, entity string, n int) {
	t.Helper()
	var ws []stores.Write
	for i := range n {
		ws = append(ws, stores.Write{Entity: entity, Key: keyOf(i), Client: fmt.Sprintf("c%d", i%3), Version: 10, Data: doc(keyOf(i), 10)})
		if len(ws) == 1000 || i == n-1 {
			mustApply(t, st, ws...)
			ws = ws[:0]
		}
	}
}

func mustApply(t testing.TB, st stores.Writer, ws ...stores.Write) {
	t.Helper()
	if _, err := st.Apply(context.Background(), ws); err != nil {
		t.Fatal(err)
	}
}

func mustGet(t testing.TB, st stores.Reader, entity, key string) stores.Record {
	t.Helper()
	r, err := st.Get(context.Background(), entity, key)
	if err != nil {
		t.Fatalf("get %s/%s: %v", entity, key, err)
	}
	return r
}

func (e *env) backfillConfig(src, dst stores.Store, entities ...string) BackfillConfig {
	return BackfillConfig{
		Source: src, Target: dst, SourceName: "sqlite:source", TargetName: "sqlite:target",
		Entities: entities, JS: e.js, State: e.state,
		Stream: testStream, TargetConsumer: targetName, LegacyConsumer: legacyName,
		ChunkRows: 200, Copiers: 2, AckWait: 2 * time.Second, WatermarkPoll: 20 * time.Millisecond,
		ProgressEvery: 20 * time.Millisecond, DrainTimeout: 5 * time.Second, Log: testLog(e.t),
	}
}
