package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/console"
)

// TestClientShowsChangesMadeOutsideSwitchyard: a stage revision without an
// audit entry is flagged on the client page and in the API.
func TestClientShowsChangesMadeOutsideSwitchyard(t *testing.T) {
	f := newMemFlags("acme", "clean")
	f.unaudited = map[string][]console.UnauditedChange{"acme": {{Revision: 42, At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Operation: "put", Stage: console.StageTarget}}}
	srv := startConsole(t, f, console.Options{})
	b := newBrowser(t, srv)
	b.login(viewerName, viewerPassword)

	page := b.get("/clients/acme")
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="unaudited"`) || !strings.Contains(page.body, "Changed outside Switchyard") || !strings.Contains(page.body, "revision 42") {
		t.Fatalf("client page does not flag the unaudited revision (status %d)", page.status)
	}
	if clean := b.get("/clients/clean"); strings.Contains(clean.body, `id="unaudited"`) {
		t.Fatal("a client without unaudited revisions is flagged")
	}
	r := b.get("/api/clients/acme")
	var got struct {
		Unaudited []struct {
			Revision  uint64 `json:"revision"`
			Operation string `json:"operation"`
			Stage     string `json:"stage"`
		} `json:"unaudited_changes"`
	}
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || len(got.Unaudited) != 1 || got.Unaudited[0].Revision != 42 || got.Unaudited[0].Stage != "target" {
		t.Fatalf("API: %s (%v)", r.body, err)
	}
}
