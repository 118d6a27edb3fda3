package promcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const exposition = `# HELP switchyard_consumer_lag Lag.
# TYPE switchyard_consumer_lag gauge
switchyard_consumer_lag{subscription="target"} 3
# HELP switchyard_batch_duration_seconds Batch time.
# TYPE switchyard_batch_duration_seconds histogram
switchyard_batch_duration_seconds_bucket{subscription="target",le="0.1"} 1
switchyard_batch_duration_seconds_bucket{subscription="target",le="+Inf"} 1
switchyard_batch_duration_seconds_sum{subscription="target"} 0.05
switchyard_batch_duration_seconds_count{subscription="target"} 1
# HELP switchyard_backfill_rows_total Rows.
# TYPE switchyard_backfill_rows_total counter
switchyard_backfill_rows_total 10
`

func series(t *testing.T) Series {
	t.Helper()
	s := NewSeries()
	if err := s.AddExposition(strings.NewReader(exposition)); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheckAcceptsWhatIsExported(t *testing.T) {
	s := series(t)
	for _, q := range []Query{
		{Expr: `max by (subscription) (switchyard_consumer_lag{subscription=~"$target"})`, Legend: "{{subscription}}"},
		{Expr: `histogram_quantile(0.99, sum by (le, subscription) (rate(switchyard_batch_duration_seconds_bucket[$__rate_interval])))`, Legend: "p99 {{subscription}}"},
		{Expr: `sum by (subscription) (rate(switchyard_batch_duration_seconds_sum[5m])) / sum by (subscription) (rate(switchyard_batch_duration_seconds_count[5m]))`, Legend: "{{ subscription }}"},
		{Expr: `count by (subscription) (max_over_time(switchyard_consumer_lag[1d])) unless count by (subscription) (switchyard_consumer_lag)`, Legend: "{{subscription}}"},
		{Expr: `absent_over_time(switchyard_backfill_rows_total[1d])`},
		{Expr: `up{job="switchyard-workers"} == 0`, Legend: "{{instance}}"},
	} {
		problems, err := s.Check(q)
		if err != nil || len(problems) > 0 {
			t.Errorf("%s: %v %v", q.Expr, err, problems)
		}
	}
}

func TestCheckNamesWhatIsNotExported(t *testing.T) {
	s := series(t)
	for _, tc := range []struct {
		q    Query
		want string
	}{
		{Query{Expr: `sum(switchyard_consumer_lags)`}, "metric switchyard_consumer_lags is not exported"},
		{Query{Expr: `switchyard_consumer_lag{consumer="target"}`}, `has no label "consumer"`},
		{Query{Expr: `sum by (entity) (rate(switchyard_backfill_rows_total[1m]))`}, `grouping of sum names label "entity"`},
		{Query{Expr: `sum(switchyard_consumer_lag)`, Legend: "{{subscription}}"}, `legend names label "subscription"`},
		{Query{Expr: `histogram_quantile(0.5, sum by (subscription) (rate(switchyard_batch_duration_seconds_bucket[5m])))`}, `histogram_quantile names label "le"`},
		{Query{Expr: `switchyard_consumer_lag / on (stream) switchyard_consumer_lag`}, `on() of / names label "stream"`},
	} {
		problems, err := s.Check(tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.q.Expr, err)
			continue
		}
		if !strings.Contains(strings.Join(problems, "\n"), tc.want) {
			t.Errorf("%s: problems %q lack %q", tc.q.Expr, problems, tc.want)
		}
	}
	if _, err := s.Check(Query{Source: "x", Expr: `sum(rate(switchyard_consumer_lag[5m])`}); err == nil {
		t.Error("an unbalanced expression parsed")
	}
}

func TestRuleAndDashboardQueries(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte(`groups:
  - name: g
    rules:
      - alert: A
        expr: max by (subscription) (switchyard_consumer_lag) > 0
        for: 5m
        annotations: {summary: "{{ $labels.subscription }} on {{ $labels.pod }}"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	qs, err := RuleQueries(rules)
	if err != nil || len(qs) != 1 {
		t.Fatalf("rules: %v %v", qs, err)
	}
	problems, err := series(t).Check(qs[0])
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0], `"pod"`) {
		t.Errorf("an annotation naming a label the alert lacks: %v %v", problems, err)
	}

	dash := filepath.Join(dir, "d.json")
	if err := os.WriteFile(dash, []byte(`{"panels": [{"title": "row", "panels": [{"title": "p", "targets": [{"refId": "A", "expr": "up", "legendFormat": "{{job}}"}]}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	qs, err = DashboardQueries(dash)
	if err != nil || len(qs) != 1 || qs[0].Legend != "{{job}}" {
		t.Fatalf("dashboard: %v %v", qs, err)
	}
}
