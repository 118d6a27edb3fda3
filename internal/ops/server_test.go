package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/internal/ops"
	"github.com/switchyard/switchyard/internal/testenv"
)

func start(t *testing.T, cfg ops.Config) (*ops.Server, string) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	s, err := ops.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s, "http://" + s.Addr()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestEndpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	var storeErr error = errors.New("dial tcp 127.0.0.1:5432: connection refused")
	var down atomic.Bool
	down.Store(true)
	s, base := start(t, ops.Config{Gatherer: reg, Checks: []ops.Check{
		{Name: "nats", Probe: func(context.Context) error { return nil }},
		{Name: "sink", Probe: func(context.Context) error {
			if down.Load() {
				return storeErr
			}
			return nil
		}},
	}})

	if code, body := get(t, base+"/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	if code, body := get(t, base+"/metrics"); code != 200 || !strings.Contains(body, "switchyard_test_total 3") {
		t.Fatalf("/metrics: %d %q", code, body)
	}
	code, body := get(t, base+"/readyz")
	var r ops.Readiness
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("/readyz body %q: %v", body, err)
	}
	if code != http.StatusServiceUnavailable || r.Ready || r.Checks["nats"] != "ok" || !strings.Contains(r.Checks["sink"], "connection refused") {
		t.Fatalf("/readyz with the store down: %d %+v", code, r)
	}
	down.Store(false)
	if code, body := get(t, base+"/readyz"); code != 200 || !strings.Contains(body, `"ready": true`) {
		t.Fatalf("/readyz with everything up: %d %s", code, body)
	}
	s.SetDraining()
	if code, body := get(t, base+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"draining": true`) {
		t.Fatalf("/readyz while draining: %d %s", code, body)
	}
	if code, _ := get(t, base+"/nothing"); code != http.StatusNotFound {
		t.Fatalf("unknown path: %d", code)
	}
	resp, err := http.Post(base+"/healthz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /healthz: %d", resp.StatusCode)
	}
}

func TestSlowAndPanickingChecksDoNotHangOrCrash(t *testing.T) {
	_, base := start(t, ops.Config{CheckTimeout: 50 * time.Millisecond, Checks: []ops.Check{
		{Name: "slow", Probe: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
		{Name: "broken", Probe: func(context.Context) error { panic("boom") }},
	}})
	code, body := get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "deadline exceeded") || !strings.Contains(body, "panicked") {
		t.Fatalf("/readyz: %d %s", code, body)
	}
}

func TestNATSConnectedCheck(t *testing.T) {
	srv := testenv.NATS(t)
	nc, _ := srv.Connect()
	s, err := ops.New(ops.Config{Addr: "127.0.0.1:0", Checks: []ops.Check{ops.NATSConnected("nats", nc)}})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Ready(context.Background()); !r.Ready {
		t.Fatalf("connected: %+v", r)
	}
	srv.Shutdown()
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		r := s.Ready(context.Background())
		return !r.Ready, r.Checks["nats"]
	}, "not ready once the broker is gone")
}

func TestBadConfigAndLifecycle(t *testing.T) {
	ok := func(context.Context) error { return nil }
	if _, err := ops.New(ops.Config{Checks: []ops.Check{{Name: "a", Probe: ok}, {Name: "a", Probe: ok}}}); err == nil {
		t.Fatal("duplicate check names accepted")
	}
	if _, err := ops.New(ops.Config{Checks: []ops.Check{{Name: "", Probe: ok}}}); err == nil {
		t.Fatal("unnamed check accepted")
	}
	s, err := ops.New(ops.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown before Start: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil {
		t.Fatal("second Start accepted")
	}
	busy, err := ops.New(ops.Config{Addr: s.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if err := busy.Start(); err == nil {
		t.Fatal("Start on a bound address succeeded")
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
}

// A process with its own listener mounts the endpoints through Handler,
// without starting the server.
func TestHandlerServesTheEndpointsWithoutStart(t *testing.T) {
	s, err := ops.New(ops.Config{Checks: []ops.Check{{Name: "dep", Probe: func(context.Context) error { return errors.New("down") }}}})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/healthz": http.StatusOK, "/readyz": http.StatusServiceUnavailable, "/metrics": http.StatusOK} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", path, rec.Code, want)
		}
	}
}
