package main

import (
	"bytes"
	"strings"
	"testing"
)

// Commands with actions agree: no action is a one-line usage error (exit 2)
// naming the actions, --help prints usage (exit 0), a flag where the action
// belongs is a usage error.
func TestCommandsWithActions(t *testing.T) {
	for _, cmd := range []string{"subs", "dlq", "flags"} {
		var out, errOut bytes.Buffer
		if code := run([]string{cmd}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), cmd+" needs an action: ") || strings.Count(errOut.String(), "\n") != 1 {
			t.Errorf("%s without an action: exit %d, stderr %q", cmd, code, errOut.String())
		}
		for _, help := range []string{"-h", "--help", "-help"} {
			out.Reset()
			if code := run([]string{cmd, help}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "Usage: switchyard "+cmd) {
				t.Errorf("%s %s: exit %d, stdout %q", cmd, help, code, out.String())
			}
		}
		errOut.Reset()
		if code := run([]string{cmd, "--stream", "X"}, &out, &errOut); code != 2 {
			t.Errorf("%s --stream X: exit %d, want 2 (the action comes first)", cmd, code)
		}
	}
}
