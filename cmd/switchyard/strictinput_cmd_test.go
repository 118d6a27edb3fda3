package main

import (
	"strings"
	"testing"
)

// TestFlagsRefusesLooseInput: percentages, numbers, client ids and reasons
// are refused before anything connects, with the reason; nothing is read as
// a nearby value.
func TestFlagsRefusesLooseInput(t *testing.T) {
	set := []string{"flags", "set", "--stage", "shadow", "--actor", "ann", "--nats", "nats://127.0.0.1:1"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--percentage", "12,5", "--reason", "r"}, `"12,5" is not a percentage`},
		{[]string{"--percentage", "10abc", "--reason", "r"}, `"10abc" is not a percentage`},
		{[]string{"--percentage", "0x1p3", "--reason", "r"}, `"0x1p3" is not a percentage`},
		{[]string{"--client", "acme\u200b", "--reason", "r"}, "U+200B"},
		{[]string{"--client", "a\tb", "--reason", "r"}, "control character"},
		{[]string{"--client", "..", "--reason", "r"}, "not a client id"},
		{[]string{"--client", "acme", "--reason", "\u200b"}, "reason"},
		{[]string{"--client", "acme", "--reason", "fix \u202eevil"}, "bidirectional"},
		{[]string{"--client", "acme", "--reason", "r", "--expect-revision", "0x1"}, "--expect-revision"},
	} {
		code, out, errOut := runCmd(t, append(set, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 mentioning %q", tc.args, code, out, errOut, tc.want)
		}
	}
	for _, args := range [][]string{
		{"flags", "list", "--limit", "0x10"},
		{"flags", "audit", "--before", "1e3"},
		{"read-api", "--auto-rollback-error-rate", "0x1p-2", "--legacy", "sqlite:a", "--target", "sqlite:b"},
		{"worker", "--batch-size", "1_000", "--consumer", "c", "--sink", "sqlite:a"},
	} {
		code, _, errOut := runCmd(t, args...)
		if code != 2 || !strings.Contains(errOut, "decimal") {
			t.Errorf("%v: exit %d, %q; want exit 2 naming the decimal rule", args, code, errOut)
		}
	}
}
