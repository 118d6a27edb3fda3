package main

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/testenv"
)

// TestFlagsInitAsTheControlPlaneRole runs the chart's flags-init step as it
// runs in the hook: the user and password of the flags_cli role of
// deploy/nats/switchyard.conf from SWITCHYARD_NATS_USER and
// SWITCHYARD_NATS_PASSWORD. The worker role may not create the control
// plane, and neither password is ever printed.
func TestFlagsInitAsTheControlPlaneRole(t *testing.T) {
	isolateNATSConfig(t)
	for _, role := range []string{"admin", "console", "flags_cli", "read_api", "read_api_autorollback", "worker", "backfill", "verify"} {
		t.Setenv("SWITCHYARD_NATS_"+strings.ToUpper(role)+"_PASSWORD", "pw-"+role+"-Zq9")
	}
	srv := testenv.NATSWithConfig(t, "../../deploy/nats/switchyard.conf")

	t.Setenv("SWITCHYARD_NATS_USER", "worker")
	t.Setenv("SWITCHYARD_NATS_PASSWORD", "pw-worker-Zq9")
	code, out, errOut := runCmd(t, "flags", "init", "--nats", srv.URL, "--replicas", "1")
	if code == 0 {
		t.Fatalf("the worker role created the control plane:\n%s", out)
	}
	if strings.Contains(out+errOut, "pw-worker") {
		t.Fatalf("the password was printed:\n%s\n%s", out, errOut)
	}

	t.Setenv("SWITCHYARD_NATS_USER", "flags_cli")
	t.Setenv("SWITCHYARD_NATS_PASSWORD", "pw-flags_cli-Zq9")
	code, out, errOut = runCmd(t, "flags", "init", "--nats", srv.URL, "--replicas", "1")
	if code != 0 || !strings.Contains(out, "control plane ready") {
		t.Fatalf("flags init as flags_cli: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "pw-flags_cli") {
		t.Fatalf("the password was printed:\n%s\n%s", out, errOut)
	}
	// Run again, as the hook does on every upgrade: nothing to change.
	if code, out, errOut = runCmd(t, "flags", "init", "--nats", srv.URL, "--replicas", "1"); code != 0 {
		t.Fatalf("flags init again as flags_cli: exit %d\n%s\n%s", code, out, errOut)
	}
}
