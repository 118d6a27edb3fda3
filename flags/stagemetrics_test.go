package flags

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

type fixedCounts struct {
	counts map[string]int
	err    error
}

func (f fixedCounts) CountByStage(context.Context) (map[string]int, error) { return f.counts, f.err }

func gatherStages(t *testing.T, counter StageCounter) (map[string]float64, float64) {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := RegisterStageMetrics(reg, counter, 0); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	stages, errs := map[string]float64{}, -1.0
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetName() {
			case "switchyard_clients_by_stage":
				stages[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			case "switchyard_clients_by_stage_errors":
				errs = m.GetGauge().GetValue()
			}
		}
	}
	return stages, errs
}

func TestStageMetricsExportEveryStage(t *testing.T) {
	stages, errs := gatherStages(t, fixedCounts{counts: map[string]int{"legacy": 3, "target": 2}})
	want := map[string]float64{"legacy": 3, "shadow": 0, "target-shadow": 0, "target": 2}
	for stage, n := range want {
		if got, ok := stages[stage]; !ok || got != n {
			t.Errorf("clients in %s = %v (present %v), want %v", stage, got, ok, n)
		}
	}
	if errs != 0 {
		t.Errorf("errors gauge = %v, want 0", errs)
	}
}

func TestStageMetricsReportAFailedCount(t *testing.T) {
	stages, errs := gatherStages(t, fixedCounts{err: errors.New("bucket unreachable")})
	if len(stages) != 0 || errs != 1 {
		t.Errorf("after a failed count: stages %v, errors gauge %v; want none and 1", stages, errs)
	}
}
