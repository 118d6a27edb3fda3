package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/testenv"
)

// TestFlagsSetRecordsTheCredentialIdentity: under the shipped NATS
// configuration, flags set records the user the server authenticated;
// --actor only adds a note and cannot replace it.
func TestFlagsSetRecordsTheCredentialIdentity(t *testing.T) {
	for _, role := range []string{"console", "flags_cli", "read_api", "read_api_autorollback", "worker", "backfill", "verify"} {
		t.Setenv("SWITCHYARD_NATS_"+strings.ToUpper(role)+"_PASSWORD", "pw-"+role)
	}
	srv := testenv.NATSWithConfig(t, "../../deploy/nats/switchyard.conf")
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("flags_cli", "pw-flags_cli")
	natsURL := u.String()

	code, out, errOut := runCmd(t, "flags", "set", "--nats", natsURL, "--client", "acme", "--stage", "shadow", "--reason", "pilot", "--actor", "alice")
	if code != 0 {
		t.Fatalf("flags set: exit %d: %s %s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "pw-flags_cli") {
		t.Fatalf("the password printed: %s %s", out, errOut)
	}
	code, out, errOut = runCmd(t, "flags", "audit", "--nats", natsURL, "--json")
	var entries []flags.AuditEntry
	if code != 0 || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != 1 {
		t.Fatalf("audit: exit %d: %s %s", code, out, errOut)
	}
	if want := "nats:flags_cli@SWITCHYARD (note: alice)"; entries[0].Actor != want {
		t.Fatalf("recorded actor %q, want %q", entries[0].Actor, want)
	}

	// The worker's credentials cannot change a stage through the CLI either.
	u.User = url.UserPassword("worker", "pw-worker")
	code, _, errOut = runCmd(t, "flags", "set", "--nats", u.String(), "--client", "acme", "--stage", "legacy", "--reason", "r", "--actor", "alice")
	if code == 0 {
		t.Fatalf("flags set as the worker succeeded: %s", errOut)
	}
}
