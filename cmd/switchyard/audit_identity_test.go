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
	srv := testenv.NATSWithShippedConfig(t, "../../deploy/nats/switchyard.conf")
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("flags_cli", testenv.ShippedNATSPassword("flags_cli"))
	natsURL := u.String()

	code, out, errOut := runCmd(t, "flags", "set", "--nats", natsURL, "--client", "acme", "--stage", "shadow", "--reason", "pilot", "--actor", "alice")
	if code != 0 {
		t.Fatalf("flags set: exit %d: %s %s", code, out, errOut)
	}
	if strings.Contains(out+errOut, testenv.ShippedNATSPassword("flags_cli")) {
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
	u.User = url.UserPassword("worker", testenv.ShippedNATSPassword("worker"))
	code, _, errOut = runCmd(t, "flags", "set", "--nats", u.String(), "--client", "acme", "--stage", "legacy", "--reason", "r", "--actor", "alice")
	if code == 0 {
		t.Fatalf("flags set as the worker succeeded: %s", errOut)
	}
}
