package migrationstatus_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/console/migrationstatus"
	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	_ "github.com/switchyard/switchyard/stores/sqlite"
)

func TestVerifierVerifiesOneClientOnceAtATime(t *testing.T) {
	ctx := context.Background()
	_, js := testenv.NATS(t).Connect()
	state, err := migrator.OpenState(ctx, js, "")
	if err != nil {
		t.Fatal(err)
	}
	audit, err := flags.OpenAuditLog(ctx, js, flags.AuditConfig{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	legacyDSN, targetDSN := "sqlite:"+filepath.Join(dir, "legacy.db"), "sqlite:"+filepath.Join(dir, "target.db")
	for dsn, keys := range map[string][]string{legacyDSN: {"a", "b", "c"}, targetDSN: {"a"}} {
		s, err := all.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		var ws []stores.Write
		for _, k := range keys {
			ws = append(ws, stores.Write{Entity: "task", Key: k, Client: "acme", Version: 1, Data: json.RawMessage(`{"t":1}`)})
		}
		ws = append(ws, stores.Write{Entity: "task", Key: "z", Client: "other", Version: 1, Data: json.RawMessage(`{"t":1}`)})
		if _, err := s.Apply(ctx, ws); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	v, stop, err := migrationstatus.OpenVerifier(ctx, migrationstatus.VerifierStores{LegacyDSN: legacyDSN, TargetDSN: targetDSN, Entities: []string{"task"}}, state, audit, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)

	if _, err := v.VerifyClient(ctx, console.VerifyRequest{ClientID: "acme", Reason: "after repair", Actor: "ann"}); err != nil {
		t.Fatal(err)
	}
	// A second request while the first may still run is refused; once it
	// ended, the result is the client's.
	var last *console.VerifyResult
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		cv, err := v.ClientVerify(ctx, "acme")
		if err != nil {
			return false, err.Error()
		}
		if !cv.Running.IsZero() {
			_, err := v.VerifyClient(ctx, console.VerifyRequest{ClientID: "acme", Reason: "again", Actor: "bob"})
			switch {
			case errors.Is(err, console.ErrVerifyRunning):
				return false, "running"
			case err != nil:
				t.Fatalf("a second verify while one runs: %v, want ErrVerifyRunning", err)
			}
			// Accepted: only right if the first run ended in between,
			// which its recorded result shows.
			if after, err := v.ClientVerify(ctx, "acme"); err != nil || after.Last == nil {
				t.Fatalf("a second verify was started while the first still ran (%+v, %v)", after, err)
			}
			return false, "the first run ended just before the second request"
		}
		last = cv.Last
		return last != nil, cv.Failed
	}, "the client's verify result")
	if last.Clean || last.Findings != 2 {
		t.Errorf("result = %+v, want 2 differences (b and c missing in the target; the other client's row not counted)", last)
	}
	es, err := audit.List(ctx, flags.AuditQuery{Client: "acme"})
	if err != nil || len(es) == 0 || es[len(es)-1].Scope != flags.ScopeVerify || es[len(es)-1].Actor != "ann" || es[len(es)-1].Reason != "after repair" {
		t.Fatalf("audit = %+v, %v", es, err)
	}
}

func TestVerifierNeedsItsParts(t *testing.T) {
	if _, err := migrationstatus.NewVerifier(migrator.VerifyConfig{}, nil, nil); err == nil {
		t.Fatal("a verifier without stores, entities, state and audit log was built")
	}
}
