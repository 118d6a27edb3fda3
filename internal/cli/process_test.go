package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"testing"
)

func TestExitCode(t *testing.T) {
	gate, config := errors.New("gate"), errors.New("config")
	cases := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{flag.ErrHelp, ExitOK},
		{Usagef("bad"), ExitUsage},
		{fmt.Errorf("wrapped: %w", config), ExitUsage},
		{CheckFailedf("dirty"), ExitCheckFailed},
		{fmt.Errorf("wrapped: %w", gate), ExitCheckFailed},
		{errors.New("boom"), ExitError},
	}
	for _, c := range cases {
		if got := ExitCode(c.err, []error{config}, []error{gate}); got != c.want {
			t.Errorf("ExitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestSplitAction(t *testing.T) {
	action, rest, err := SplitAction("subs", "subs <action>", "list, ensure", []string{"list", "--json"}, io.Discard)
	if err != nil || action != "list" || !slices.Equal(rest, []string{"--json"}) {
		t.Fatalf("got %q %q %v", action, rest, err)
	}
	var out bytes.Buffer
	if _, _, err := SplitAction("subs", "subs <action>", "list", []string{"--help"}, &out); !errors.Is(err, flag.ErrHelp) || out.String() != "Usage: switchyard subs <action>\n" {
		t.Fatalf("help: %v %q", err, out.String())
	}
	for _, args := range [][]string{nil, {"--stream", "X"}} {
		if _, _, err := SplitAction("subs", "", "list, ensure", args, io.Discard); !errors.Is(err, ErrUsage) || err.Error() != "subs needs an action: list, ensure" {
			t.Errorf("%q: %v", args, err)
		}
	}
}

func TestParseFlagsRefusesArguments(t *testing.T) {
	fs := NewFlagSet("status", "status [flags]", io.Discard)
	asJSON := fs.Bool("json", false, "")
	if err := fs.ParseFlags([]string{"--json"}); err != nil || !*asJSON {
		t.Fatalf("flags only: %v", err)
	}
	fs = NewFlagSet("status", "status [flags]", io.Discard)
	if err := fs.ParseFlags([]string{"extra"}); !errors.Is(err, ErrUsage) || err.Error() != `status: unexpected argument "extra"` {
		t.Fatalf("an argument: %v", err)
	}
}
