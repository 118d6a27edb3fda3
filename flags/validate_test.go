package flags_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/flags"
)

// TestParsePercentageIsStrict: the whole text must be the number.
func TestParsePercentageIsStrict(t *testing.T) {
	for _, bad := range []string{"12,5", "10abc", "0x1p3", "1e1", "Inf", "NaN", "-1", "+5", " 12", "12 %", "", "%", ".5", "5.", "100.01", "1000", "12.345"} {
		if bp, err := flags.ParsePercentage(bad); !errors.Is(err, flags.ErrInvalid) || !strings.Contains(err.Error(), "percentage") {
			t.Errorf("ParsePercentage(%q) = %d, %v; want an error naming the percentage", bad, bp, err)
		}
	}
	for in, want := range map[string]int{"0": 0, "12.5": 1250, "12.5%": 1250, "0.01": 1, "100": 10000, "100.00": 10000, "7.05": 705} {
		if bp, err := flags.ParsePercentage(in); err != nil || bp != want {
			t.Errorf("ParsePercentage(%q) = %d, %v; want %d", in, bp, err, want)
		}
	}
}

// TestValidateClientRefusesLookalikes: ids that display like another id, or
// that a URL path cannot carry, are refused with a reason.
func TestValidateClientRefusesLookalikes(t *testing.T) {
	bad := map[string]string{
		"acme\u200b":       "U+200B",        // zero-width space: looks like "acme"
		"ac\u200dme":       "U+200D",        // zero-width joiner
		"acme\u202egol":    "bidirectional", // right-to-left override
		"\u2066acme\u2069": "bidirectional",
		"acme\u00a0":       "U+00A0", // no-break space
		"a\u3164b":         "U+3164", // Hangul filler
		"a\ufe0fb":         "U+FE0F", // variation selector
		"a\ue000b":         "private-use",
		"cafe\u0301":       "NFC", // decomposed é
		"a\tb":             "control",
		"..":               "not a client id",
		".":                "not a client id",
		" acme":            "white space",
		"acme ":            "white space",
		"":                 "required",
	}
	for id, want := range bad {
		if err := flags.ValidateClient(id); !errors.Is(err, flags.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateClient(%q) = %v; want an error mentioning %q", id, err, want)
		}
	}
	for _, good := range []string{"acme", "café", "ACME Corp", "a.b", "客户-1", "o'brien"} {
		if err := flags.ValidateClient(good); err != nil {
			t.Errorf("ValidateClient(%q) = %v", good, err)
		}
	}
}

// TestValidateReasonNeedsVisibleText: a reason of invisible characters is
// not present; bidirectional controls cannot reorder what it says.
func TestValidateReasonNeedsVisibleText(t *testing.T) {
	bad := map[string]string{
		"\u200b":               "U+200B",
		"   ":                  "required",
		"\t":                   "required",
		"fix \u202eevil\u202c": "bidirectional",
		"line\nbreak":          "control",
		"cafe\u0301 is down":   "NFC",
	}
	for reason, want := range bad {
		if err := flags.ValidateReason(reason); !errors.Is(err, flags.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateReason(%q) = %v; want an error mentioning %q", reason, err, want)
		}
	}
	for _, good := range []string{"verify clean", "ticket\t#42", "café ok"} {
		if err := flags.ValidateReason(good); err != nil {
			t.Errorf("ValidateReason(%q) = %v", good, err)
		}
	}
}

// TestRecordedActorKeepsTheIdentity: a note is added after the identity,
// never instead of it, and the result is checked like any actor.
func TestRecordedActorKeepsTheIdentity(t *testing.T) {
	for _, c := range []struct{ id, note, want string }{
		{"nats:ops", "", "nats:ops"},
		{"nats:ops", "nats:ops", "nats:ops"},
		{"nats:ops", "alice", "nats:ops (note: alice)"},
	} {
		if got, err := flags.RecordedActor(c.id, c.note); err != nil || got != c.want {
			t.Errorf("RecordedActor(%q, %q) = %q, %v; want %q", c.id, c.note, got, err, c.want)
		}
	}
	if _, err := flags.RecordedActor("nats:ops", strings.Repeat("x", flags.MaxActorBytes)); !errors.Is(err, flags.ErrInvalid) {
		t.Errorf("an actor over %d bytes: %v, want ErrInvalid", flags.MaxActorBytes, err)
	}
}
