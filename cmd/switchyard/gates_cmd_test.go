package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/testenv"
)

// Lowering a gate threshold on the command line does not let a move
// through: it is refused without --force, and with --force the audit log
// records it as forced, naming the lowered threshold.
func TestFlagsSetWithLoweredThresholdNeedsForce(t *testing.T) {
	srv := testenv.NATS(t)
	cmd := func(args ...string) (int, string, string) {
		t.Helper()
		return runCmd(t, append(append([]string{"flags"}, args...), "--nats", srv.URL)...)
	}
	code, _, errOut := cmd("set", "--client", "c3", "--stage", "target", "--reason", "no gate", "--actor", "ann", "--min-shadow-reads", "-1")
	if code != 1 || !strings.Contains(errOut, "gate-thresholds: lowered below the defaults: min shadow reads disabled") {
		t.Fatalf("set with the shadow gate off: exit %d: %s", code, errOut)
	}
	if code, out, errOut := cmd("set", "--client", "c3", "--stage", "target", "--reason", "hand-checked pilot", "--actor", "ann", "--min-shadow-reads", "-1", "--force"); code != 0 {
		t.Fatalf("forced: exit %d: %s %s", code, out, errOut)
	}
	code, out, _ := cmd("audit", "--client", "c3", "--json")
	var entries []flags.AuditEntry
	if code != 0 || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != 1 || !entries[0].Forced || entries[0].Reason != "hand-checked pilot" {
		t.Fatalf("audit: exit %d: %s", code, out)
	}
	named := false
	for _, g := range entries[0].FailedGates {
		named = named || strings.HasPrefix(g, flags.GateThresholds+": ")
	}
	if !named {
		t.Fatalf("forced entry does not name the lowered threshold: %+v", entries[0])
	}
	if code, _, errOut := cmd("get", "--min-shadow-keys", "100000"); code == 0 || !strings.Contains(errOut, "min shadow keys") {
		t.Fatalf("unreachable key threshold: exit %d: %s", code, errOut)
	}
}
