package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/flags"
)

// TestAPIRejectsDuplicateAndCaseVariantMembers: encoding/json would take
// the last of two "reason" members, and "Reason" for "reason"; the API
// refuses both, so what is audited is what was sent.
func TestAPIRejectsDuplicateAndCaseVariantMembers(t *testing.T) {
	f := newMemFlags("acme")
	srv := startConsole(t, f, console.Options{})
	b := newBrowser(t, srv)
	csrf := b.login(operatorName, operatorPassword)
	h := map[string]string{"Content-Type": "application/json", "X-CSRF-Token": csrf}
	for body, want := range map[string]string{
		`{"to":"shadow","reason":"ticket 1","reason":"innocent"}`: "twice",
		`{"to":"shadow","reason":"ticket 1","Reason":"innocent"}`: "twice",
		`{"to":"shadow","Reason":"ticket 1"}`:                     "case-sensitive",
		`{"TO":"shadow","reason":"ticket 1"}`:                     "case-sensitive",
		`{"to":"shadow","to":"target","reason":"ticket 1"}`:       "twice",
	} {
		r := b.do(http.MethodPost, "/api/clients/acme/stage", strings.NewReader(body), h)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", body, r.status, r.body)
			continue
		}
		if _, _, msg := apiErrorOf(t, r); !strings.Contains(msg, want) {
			t.Errorf("%s: message %q, want it to mention %q", body, msg, want)
		}
	}
	if st := f.stages["acme"]; st != console.StageLegacy {
		t.Fatalf("a refused request changed the stage to %s", st)
	}
	if r := b.do(http.MethodPost, "/api/clients/acme/stage", strings.NewReader(`{"to":"shadow","reason":"ticket 1"}`), h); r.status != http.StatusOK {
		t.Fatalf("a well-formed request: status %d: %s", r.status, r.body)
	}
}

// TestConsoleAndFlagsAgreeOnClientIDs: the console accepts exactly the ids
// the flag model (and so the CLI) accepts.
func TestConsoleAndFlagsAgreeOnClientIDs(t *testing.T) {
	for _, id := range []string{"acme", "a\tb", "..", ".", "acme\u200b", "a\u202eb", "cafe\u0301", "café", " acme", "a/b", "a b", strings.Repeat("x", 256)} {
		consoleOK := console.ValidateClientID(id) == nil
		flagsOK := flags.ValidateClient(id) == nil
		if consoleOK != flagsOK {
			t.Errorf("client id %q: console accepts %v, flags accept %v", id, consoleOK, flagsOK)
		}
	}
	for _, id := range []string{"a\tb", "..", "acme\u200b"} {
		if console.ValidateClientID(id) == nil {
			t.Errorf("client id %q accepted", id)
		}
	}
}

// TestAPIRefusesInvisibleReasons: a reason of only U+200B is not a reason,
// and a bidirectional override cannot disguise one.
func TestAPIRefusesInvisibleReasons(t *testing.T) {
	f := newMemFlags("acme")
	srv := startConsole(t, f, console.Options{})
	b := newBrowser(t, srv)
	csrf := b.login(operatorName, operatorPassword)
	for _, reason := range []string{"\u200b", "fix \u202eevil\u202c", "\u2066x\u2069"} {
		r := b.postJSON("/api/clients/acme/stage", csrf, map[string]any{"to": "shadow", "reason": reason})
		if r.status != http.StatusBadRequest {
			t.Errorf("reason %q: status %d, want 400", reason, r.status)
			continue
		}
		if _, field, _ := apiErrorOf(t, r); field != "reason" {
			t.Errorf("reason %q: error names field %q, want reason", reason, field)
		}
	}
	if r := b.postJSON("/api/clients/acme\u200b/stage", csrf, map[string]any{"to": "shadow", "reason": "r"}); r.status != http.StatusBadRequest {
		t.Errorf("client id with a zero-width space: status %d, want 400", r.status)
	}
}
