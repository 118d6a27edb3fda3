package storebench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/stores/sqlite"
	"github.com/switchyard/switchyard/stores/storebench"
)

func TestRunOnSQLite(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "bench.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := storebench.Config{Rows: 1234, Batch: 100, Entity: "bench", ScanChunk: 100, ChecksumChunk: 500, Concurrency: 3}
	rep, err := storebench.Run(ctx, st, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(rep.Phases) != 6 {
		t.Fatalf("phases: %+v", rep.Phases)
	}
	for _, p := range rep.Phases {
		if p.Rows != 1234 || p.Calls == 0 || p.RowsPerSecond() <= 0 {
			t.Fatalf("phase %+v", p)
		}
	}
	var out bytes.Buffer
	rep.Print(&out)
	if !strings.Contains(out.String(), "apply insert") || !strings.Contains(out.String(), "rows/s") {
		t.Fatalf("report:\n%s", out.String())
	}
	if _, err := storebench.Run(ctx, st, cfg); !errors.Is(err, storebench.ErrNotEmpty) {
		t.Fatalf("second Run on the same entity: %v, want ErrNotEmpty", err)
	}
}

func TestDocs(t *testing.T) {
	for i := range 1000 {
		doc := storebench.Doc(i*7919, int64(i))
		if !json.Valid(doc) || doc[0] != '{' {
			t.Fatalf("Doc(%d) is not a JSON object: %s", i, doc)
		}
		if len(doc) < 250 || len(doc) > 350 {
			t.Fatalf("Doc(%d) is %d bytes, want about 300", i, len(doc))
		}
	}
	if storebench.Key(2) >= storebench.Key(10) {
		t.Fatal("keys do not sort in row order")
	}
}
