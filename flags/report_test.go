package flags_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/switchyard/switchyard/flags"
)

// A batch where only the gates refused is a gate refusal; any other
// failure is not.
func TestBatchError(t *testing.T) {
	refused := &flags.BatchError{Failed: 2, Refused: 2, Total: 3}
	if !errors.Is(refused, flags.ErrGateRefused) || refused.Error() != "2 of 3 clients not changed: promotion gates refused" {
		t.Errorf("all refused: %v", refused)
	}
	mixed := &flags.BatchError{Failed: 2, Refused: 1, Total: 3}
	if errors.Is(mixed, flags.ErrGateRefused) || mixed.Error() != "2 of 3 clients not changed" {
		t.Errorf("mixed: %v", mixed)
	}
}

func TestRolloutTextAndChangeText(t *testing.T) {
	if got := flags.RolloutText(nil); got != "none" {
		t.Errorf("no rollout: %q", got)
	}
	if got := flags.RolloutText(&flags.Rollout{Stage: flags.StageShadow, BasisPoints: 1250}); got != "12.5% of clients without override to shadow" {
		t.Errorf("rollout: %q", got)
	}
	var b bytes.Buffer
	flags.ChangeResult{From: "legacy", To: "target", Revision: 4, AuditSeq: 9, Forced: true, FailedGates: make([]flags.Condition, 3)}.WriteText(&b, "client c1")
	if want := "client c1: legacy -> target at revision 4, audit #9 (forced past 3 failing gates)\n"; b.String() != want {
		t.Errorf("change text %q, want %q", b.String(), want)
	}
}
