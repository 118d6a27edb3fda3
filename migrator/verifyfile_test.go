package migrator

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReadFindingsFile(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := ReadFindingsFile(filepath.Join(dir, "missing.jsonl")); !errors.Is(err, ErrFindingsFile) {
		t.Fatalf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadFindingsFile(bad); !errors.Is(err, ErrBadFindings) || errors.Is(err, ErrFindingsFile) {
		t.Fatalf("bad file: %v", err)
	}
	good := filepath.Join(dir, "good.jsonl")
	if err := os.WriteFile(good, []byte(`{"entity":"tasks","key":"k1","kind":"missing"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if byEntity, n, err := ReadFindingsFile(good); err != nil || n != 1 || len(byEntity["tasks"]) != 1 {
		t.Fatalf("good file: %v %d %v", byEntity, n, err)
	}
}
