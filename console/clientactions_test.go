package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/console"
)

// memVerifier is an in-memory console.Verifier: a verify "runs" until
// finish is called.
type memVerifier struct {
	mu       sync.Mutex
	running  map[string]console.VerifyRequest
	requests []console.VerifyRequest
}

func newMemVerifier() *memVerifier { return &memVerifier{running: map[string]console.VerifyRequest{}} }

func (v *memVerifier) VerifyClient(ctx context.Context, req console.VerifyRequest) (console.ClientVerify, error) {
	v.mu.Lock()
	if _, ok := v.running[req.ClientID]; ok {
		v.mu.Unlock()
		return console.ClientVerify{}, fmt.Errorf("%w: since a minute", console.ErrVerifyRunning)
	}
	v.running[req.ClientID] = req
	v.requests = append(v.requests, req)
	v.mu.Unlock()
	return v.ClientVerify(ctx, req.ClientID)
}

func (v *memVerifier) ClientVerify(_ context.Context, client string) (console.ClientVerify, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := console.ClientVerify{Entities: []string{"orders", "invoices"},
		Last: &console.VerifyResult{At: time.Now().Add(-time.Hour), Clean: false, Findings: 2, Summary: "900 source and 902 target rows compared"}}
	if r, ok := v.running[client]; ok {
		out.Running, out.RunningBy = time.Now(), r.Actor
	}
	return out, nil
}

func startConsoleWithVerifier(t *testing.T, flags console.Flags, v console.Verifier) *browser {
	t.Helper()
	c, err := console.New(console.Deps{Flags: flags, Users: testUsers(t), Verifier: v}, console.Options{InsecureCookies: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return newBrowser(t, srv)
}

func TestOperatorClearsShadowCounters(t *testing.T) {
	flags := newMemFlags("acme")
	b := newBrowser(t, startConsole(t, flags, console.Options{}))
	csrf := b.login(operatorName, operatorPassword)

	page := b.get("/clients/acme")
	for _, want := range []string{`id="shadow-settled">7<`, `id="shadow-unsettled">3<`, "orders/o-17", `id="shadow-reset-button"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("client page lacks %s", want)
		}
	}
	if r := b.postJSON("/api/clients/acme/shadow-reset", csrf, map[string]any{"reason": " "}); r.status != http.StatusBadRequest {
		t.Errorf("reset without a reason: status %d, want 400", r.status)
	}
	if r := b.postJSON("/api/clients/acme/shadow-reset", "", map[string]any{"reason": "repaired in INC-9"}); r.status != http.StatusForbidden {
		t.Errorf("reset without the CSRF token: status %d, want 403", r.status)
	}
	if flags.auditLen() != 0 {
		t.Fatal("a refused reset was recorded")
	}
	r := b.postJSON("/api/clients/acme/shadow-reset", csrf, map[string]any{"reason": "repaired in INC-9"})
	if r.status != http.StatusOK || !strings.Contains(r.body, `"compared":0`) {
		t.Fatalf("reset: status %d, body %s", r.status, r.body)
	}
	page = b.get("/clients/acme?done=shadow-reset")
	if !strings.Contains(page.body, "Shadow counters cleared") || !strings.Contains(page.body, "repaired in INC-9") || !strings.Contains(page.body, `id="shadow-reads">0<`) {
		t.Errorf("the page after the reset lacks the flash, the audit entry or zero counters:\n%s", page.body)
	}
	if flags.auditLen() != 1 {
		t.Errorf("%d audit entries after one reset", flags.auditLen())
	}
}

func TestViewerCannotClearShadowOrVerify(t *testing.T) {
	flags := newMemFlags("acme")
	v := newMemVerifier()
	b := startConsoleWithVerifier(t, flags, v)
	csrf := b.login(viewerName, viewerPassword)
	page := b.get("/clients/acme")
	if strings.Contains(page.body, "shadow-reset-button") || strings.Contains(page.body, "verify-button") {
		t.Error("a viewer sees the reset or verify buttons")
	}
	if !strings.Contains(page.body, `id="verify-last"`) {
		t.Error("a viewer does not see the last verify")
	}
	for _, path := range []string{"/api/clients/acme/shadow-reset", "/api/clients/acme/verify"} {
		if r := b.postJSON(path, csrf, map[string]any{"reason": "viewer tries"}); r.status != http.StatusForbidden {
			t.Errorf("viewer POST %s: status %d, want 403", path, r.status)
		}
	}
	if flags.auditLen() != 0 || len(v.requests) != 0 {
		t.Error("a viewer's request changed something")
	}
}

func TestOperatorVerifiesOneClient(t *testing.T) {
	flags := newMemFlags("acme")
	v := newMemVerifier()
	b := startConsoleWithVerifier(t, flags, v)
	csrf := b.login(operatorName, operatorPassword)

	page := b.get("/clients/acme")
	for _, want := range []string{`id="verify-button"`, "2 differences", "orders, invoices"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("client page lacks %s", want)
		}
	}
	if r := b.postJSON("/api/clients/acme/verify", "", map[string]any{"reason": "after repair"}); r.status != http.StatusForbidden {
		t.Errorf("verify without the CSRF token: status %d, want 403", r.status)
	}
	if r := b.postJSON("/api/clients/acme/verify", csrf, map[string]any{"reason": ""}); r.status != http.StatusBadRequest {
		t.Errorf("verify without a reason: status %d, want 400", r.status)
	}
	r := b.postJSON("/api/clients/acme/verify", csrf, map[string]any{"reason": "after repair INC-9"})
	if r.status != http.StatusAccepted || !strings.Contains(r.body, `"running_since"`) {
		t.Fatalf("verify: status %d, body %s", r.status, r.body)
	}
	if len(v.requests) != 1 || v.requests[0].Actor != operatorName || v.requests[0].Reason != "after repair INC-9" {
		t.Fatalf("verifier got %+v", v.requests)
	}
	r = b.postJSON("/api/clients/acme/verify", csrf, map[string]any{"reason": "again"})
	if code, _, _ := apiErrorOf(t, r); r.status != http.StatusConflict || code != "verify_running" {
		t.Errorf("second verify while one runs: status %d, code %s", r.status, code)
	}
	page = b.get("/clients/acme?done=verify")
	if !strings.Contains(page.body, "Verify started") || !strings.Contains(page.body, `id="verify-running"`) || !strings.Contains(page.body, "disabled") {
		t.Errorf("the page after starting a verify does not show it running")
	}
}

func TestVerifyWithoutStoresSaysHow(t *testing.T) {
	b := newBrowser(t, startConsole(t, newMemFlags("acme"), console.Options{}))
	csrf := b.login(operatorName, operatorPassword)
	if page := b.get("/clients/acme"); !strings.Contains(page.body, "switchyard verify --client acme") {
		t.Error("without a verifier the page does not say how to verify")
	}
	r := b.postJSON("/api/clients/acme/verify", csrf, map[string]any{"reason": "try"})
	if code, _, msg := apiErrorOf(t, r); r.status != http.StatusServiceUnavailable || code != "unavailable" || !strings.Contains(msg, "--target") && !strings.Contains(msg, "target stores") {
		t.Errorf("verify without stores: status %d, code %s, message %q", r.status, code, msg)
	}
}
