package gate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/gate"
)

func TestStageNamesListsStagesInOrder(t *testing.T) {
	var names []string
	for _, s := range gate.Stages() {
		if !s.Valid() {
			t.Errorf("stage %q not valid", s)
		}
		names = append(names, string(s))
	}
	if got := strings.Join(names, ", "); got != gate.StageNames {
		t.Fatalf("StageNames = %q, stages are %q", gate.StageNames, got)
	}
	for _, s := range gate.Stages() {
		if s.ReadsLegacy() == (s == gate.StageTarget) {
			t.Errorf("%s: ReadsLegacy = %v", s, s.ReadsLegacy())
		}
	}
}

func TestErrorSaysWhichGateFailed(t *testing.T) {
	conds := []gate.Condition{{Name: "backfill complete", OK: true, Detail: "3 of 3"}, {Name: "last verify clean", Detail: "2 differences"}}
	readiness := &gate.Error{Conditions: conds}
	if got, want := readiness.Error(), "readiness gate failed: last verify clean: 2 differences"; got != want {
		t.Errorf("readiness: %q, want %q", got, want)
	}
	refused := &gate.Error{Client: "acme", Stage: gate.StageTarget, Conditions: []gate.Condition{{Name: "verify-clean", Detail: "dirty"}, {Name: "shadow-clean"}}}
	if got, want := refused.Error(), `moving client "acme" to target refused: verify-clean: dirty; shadow-clean (use force with a reason to override)`; got != want {
		t.Errorf("refusal: %q, want %q", got, want)
	}
	refused.Client = ""
	if !strings.HasPrefix(refused.Error(), "moving the change to target refused") {
		t.Errorf("refusal of a default change: %q", refused.Error())
	}
	for _, err := range []error{readiness, refused} {
		if !errors.Is(err, gate.ErrFailed) {
			t.Errorf("%v does not match ErrFailed", err)
		}
	}
}
