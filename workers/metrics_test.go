package workers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/workers"
)

// metricValue returns the value of the series name{labels} in reg, failing
// the test when it does not exist.
func metricValue(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue metrics
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

func waitFor(t *testing.T, cond func() (bool, string)) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, cond, "condition")
}

func TestMetricsSeriesAreExported(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	m, err := workers.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	// A second registration on the same registry shares the collectors.
	if _, err := workers.NewMetrics(reg); err != nil {
		t.Fatalf("second NewMetrics on one registry: %v", err)
	}
	sink := newFaultStore(t)
	e.publish(manyUpserts(10, "a")...)
	e.publish(manyUpserts(10, "a")...) // same ids: dropped by the stream's duplicate window
	e.publish(manyUpserts(5, "b")...)  // same keys, new ids: applied over the older ones
	w := e.worker(sink, testConfig(), workers.WithMetrics(m))
	e.run(w)
	e.waitAcked(15)
	sub := map[string]string{"subscription": testConsumer}
	// The "b" events supersede five "a" rows: in one batch the older writes
	// count as skipped, in two batches both count as applied.
	applied := metricValue(t, reg, "switchyard_events_applied_total", sub)
	skipped := metricValue(t, reg, "switchyard_events_skipped_total", sub)
	if applied < 10 || applied+skipped != 15 {
		t.Errorf("applied = %v, skipped = %v; want at least 10 applied and 15 in all", applied, skipped)
	}
	if got := metricValue(t, reg, "switchyard_events_duplicate_total", sub); got != 0 {
		t.Errorf("duplicates = %v, want 0", got)
	}
	if got := metricValue(t, reg, "switchyard_batch_size", sub); got == 0 {
		t.Error("switchyard_batch_size has no observation")
	}
	if got := metricValue(t, reg, "switchyard_batch_duration_seconds", sub); got == 0 {
		t.Error("switchyard_batch_duration_seconds has no observation")
	}
	waitFor(t, func() (bool, string) {
		families, _ := reg.Gather()
		for _, f := range families {
			if f.GetName() == "switchyard_consumer_lag" {
				return true, ""
			}
		}
		return false, "no lag series yet"
	})
	waitFor(t, func() (bool, string) {
		families, _ := reg.Gather()
		for _, f := range families {
			if f.GetName() == "switchyard_dead_letters" {
				return true, ""
			}
		}
		return false, "no dead-letter depth series yet"
	})
	sink.setFail(errStoreDown)
	e.publish(manyUpserts(3, "c")...)
	// Every failure kind is exported from the start, at zero.
	if got := metricValue(t, reg, "switchyard_events_failed_total", map[string]string{"subscription": testConsumer, "kind": "transient"}); got != 0 {
		t.Errorf("failed{kind=transient} = %v, want 0", got)
	}
	waitFor(t, func() (bool, string) {
		got := metricValue(t, reg, "switchyard_events_failed_total", map[string]string{"subscription": testConsumer, "kind": "store"})
		return got >= 3, fmt.Sprintf("failed{kind=store} = %v, want at least 3", got)
	})
	sink.setFail(nil)
	e.waitAcked(18)
}
