package opstest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/promcheck"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/subscriptions"
)

// scrape returns the text exposition of a /metrics endpoint.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// sample returns the value of the first sample of name whose labels
// include every label in want (such as `kind="decode"`).
func sample(text, name string, want ...string) (float64, bool) {
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range want {
			if !strings.Contains(line, l) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		return v, err == nil
	}
	return 0, false
}

func hasSeries(text, name string, want ...string) bool {
	_, ok := sample(text, name, want...)
	return ok
}

// TestMetricsExportedAndNamedByDashboardsAndAlerts runs a worker, a read
// API, a backfill and a verify, checks that each exports the series the
// runbook relies on, collects every series and label they export, and
// checks that every metric, label matcher, grouping label and legend label
// of the shipped dashboards and alert rules is among them.
func TestMetricsExportedAndNamedByDashboardsAndAlerts(t *testing.T) {
	series := promcheck.NewSeries()
	add := func(t *testing.T, process, text string) {
		t.Helper()
		if err := series.AddExposition(strings.NewReader(text)); err != nil {
			t.Fatalf("%s /metrics does not parse: %v", process, err)
		}
	}
	ok := t.Run("worker and read API", func(t *testing.T) {
		worker, readAPI := fleetMetrics(t)
		add(t, "worker", worker)
		add(t, "read-api", readAPI)
	})
	ok = t.Run("backfill and verify", func(t *testing.T) {
		backfill, verify := backfillAndVerifyMetrics(t)
		add(t, "backfill", backfill)
		add(t, "verify", verify)
	}) && ok
	if !ok {
		t.Fatal("the processes' series were not all collected")
	}
	queries := shippedQueries(t)
	for _, q := range queries {
		problems, err := series.Check(q)
		if err != nil {
			t.Error(err)
		}
		for _, p := range problems {
			t.Error(p)
		}
	}
	t.Logf("checked %d expressions against %d exported series", len(queries), len(series))
}

// shippedQueries returns every expression of the shipped dashboards and
// alert rules.
func shippedQueries(t *testing.T) []promcheck.Query {
	t.Helper()
	qs, err := promcheck.ShippedQueries("../../deploy")
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

// fleetMetrics scrapes /metrics of a running worker and a running read API,
// checks the series the dashboard and the runbook rely on (events applied,
// failed and dead-lettered per subscription, batch size and latency
// histograms, consumer lag and dead-letter depth; flag evaluations by
// stage, shadow reads, store read latency and clients per stage) and
// returns both expositions.
func fleetMetrics(t *testing.T) (worker, readAPIText string) {
	srv := testenv.NATS(t)
	nc, js := srv.Connect()
	ctx := context.Background()
	if _, err := subscriptions.EnsureStream(ctx, js, subscriptions.StreamSpec{Name: "EVENTS", Subjects: []string{"events.>"}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sink := "sqlite:" + filepath.Join(dir, "target.db")
	workerHTTP := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	env := []string{"SWITCHYARD_NATS=" + srv.URL}
	startProcess(t, env, "worker", "--stream", "EVENTS", "--consumer", "target", "--role", "target", "--start", "all",
		"--ensure", "--sink", sink, "--http", workerHTTP)

	pub := events.NewPublisher(js, "")
	var evs []events.Event
	for i := 0; i < 30; i++ {
		data, _ := json.Marshal(map[string]any{"title": fmt.Sprint("t", i)})
		evs = append(evs, events.Event{ID: fmt.Sprint("m-", i), Type: "saved", Entity: "task", Key: fmt.Sprintf("k%02d", i),
			Client: "acme", Op: events.OpUpsert, OccurredAt: time.Now().UTC(), Data: data})
	}
	if err := pub.PublishAll(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("events.task.upsert", []byte(`{"id": "broken"`)); err != nil { // poison: not JSON
		t.Fatal(err)
	}

	url := "http://" + workerHTTP + "/metrics"
	sub := `subscription="target"`
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		text := scrape(t, url)
		applied, _ := sample(text, "switchyard_events_applied_total", sub)
		lettered, _ := sample(text, "switchyard_events_dead_lettered_total", sub, `kind="decode"`)
		depth, _ := sample(text, "switchyard_dead_letters", sub)
		return applied == 30 && lettered == 1 && depth == 1,
			fmt.Sprintf("applied %v, dead-lettered %v, dead-letter depth %v", applied, lettered, depth)
	}, "worker metrics after the backlog")
	text := scrape(t, url)
	worker = text
	for _, s := range []struct{ name, label string }{
		{"switchyard_events_failed_total", sub},
		{"switchyard_batch_size_bucket", sub},
		{"switchyard_batch_duration_seconds_bucket", sub},
		{"switchyard_consumer_lag", sub},
	} {
		if !hasSeries(text, s.name, s.label) {
			t.Errorf("worker /metrics lacks %s{%s}", s.name, s.label)
		}
	}

	// The read API: flag evaluations, shadow reads, store latency, stages.
	readAPI := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	access := filepath.Join(dir, "read-api-access.json")
	if err := os.WriteFile(access, []byte(`{"callers": [{"name": "app", "token": "`+readAPIToken+`", "clients": ["*"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	startProcess(t, env, "read-api", "--listen", readAPI, "--access-file", access, "--legacy", sink, "--target", sink, "--stats-flush-interval", "200ms")
	runStep(t, dir, append(env, "PATH="+filepath.Dir(binary)+":/usr/bin:/bin", "USER=test"), step{name: "shadow", script: "switchyard flags set --client acme --stage shadow --reason 'metrics test'\n"})
	readThrough(t, readAPI, "acme", 20)
	apiURL := "http://" + readAPI + "/metrics"
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		text := scrape(t, apiURL)
		matches, _ := sample(text, "switchyard_shadow_reads_total", `result="match"`)
		return matches > 0, fmt.Sprintf("%v matching shadow reads", matches)
	}, "read API shadow metrics")
	text = scrape(t, apiURL)
	readAPIText = text
	for _, s := range []struct{ name, label string }{
		{"switchyard_flag_evaluations_total", `stage="shadow"`},
		{"switchyard_store_read_seconds_bucket", `store="legacy"`},
		{"switchyard_store_read_seconds_bucket", `store="target"`},
		{"switchyard_clients_by_stage", `stage="shadow"`},
	} {
		if !hasSeries(text, s.name, s.label) {
			t.Errorf("read-api /metrics lacks %s{%s}", s.name, s.label)
		}
	}
	return worker, readAPIText
}
