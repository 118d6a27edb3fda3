package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestNumericFlagsAreStrict: base prefixes, separators, exponents, commas and
// trailing text are refused with a usage error naming the flag; plain
// decimals parse. The environment fallback uses the same rule.
func TestNumericFlagsAreStrict(t *testing.T) {
	newSet := func() (*FlagSet, *int, *int64, *uint64, *float64) {
		fs := NewFlagSet("test", "test", &bytes.Buffer{})
		return fs, fs.Int("n", 1, "int"), fs.Int64("big", 2, "int64"), fs.Uint64("seq", 3, "uint64"), fs.Float64("rate", 0.5, "float")
	}
	for _, args := range [][]string{
		{"--n", "0x10"}, {"--n", "1_000"}, {"--n", "10abc"}, {"--n", "12,5"}, {"--n", "0o17"},
		{"--big", "1e3"}, {"--seq", "-1"}, {"--seq", "0x1"},
		{"--rate", "0x1p3"}, {"--rate", "1e-1"}, {"--rate", "Inf"}, {"--rate", "NaN"}, {"--rate", "0,25"}, {"--rate", ".5"},
	} {
		fs, _, _, _, _ := newSet()
		err := fs.Parse(args)
		if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), args[0][2:]) || !strings.Contains(err.Error(), "decimal") {
			t.Errorf("%v: %v; want a usage error naming the flag", args, err)
		}
	}
	fs, n, big, seq, rate := newSet()
	if err := fs.Parse([]string{"--n", "-7", "--big", "+12", "--seq", "18446744073709551615", "--rate", "0.25"}); err != nil {
		t.Fatal(err)
	}
	if *n != -7 || *big != 12 || *seq != 18446744073709551615 || *rate != 0.25 {
		t.Fatalf("parsed %d %d %d %v", *n, *big, *seq, *rate)
	}
	// Only allow-listed flags read the environment; allow this one here.
	EnvVars["n"] = []string{"SWITCHYARD_N"}
	t.Cleanup(func() { delete(EnvVars, "n") })
	t.Setenv("SWITCHYARD_N", "0x10")
	fs, _, _, _, _ = newSet()
	if err := fs.Parse(nil); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "SWITCHYARD_N") {
		t.Fatalf("SWITCHYARD_N=0x10: %v, want a usage error naming the variable", err)
	}
}

// TestHelpNamesNumericTypes: --help shows the type of the strict flags.
func TestHelpNamesNumericTypes(t *testing.T) {
	var out bytes.Buffer
	fs := NewFlagSet("test", "test", &out)
	fs.Int("batch-size", 500, "events per batch")
	fs.Float64("rate", 0, "share")
	fs.PrintUsage()
	if !strings.Contains(out.String(), "-batch-size int") || !strings.Contains(out.String(), "(default 500)") || !strings.Contains(out.String(), "-rate float") {
		t.Fatalf("help:\n%s", out.String())
	}
}
