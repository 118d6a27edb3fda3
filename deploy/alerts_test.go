package deploy

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/switchyard/switchyard/internal/promcheck"
)

// alertsFile is the shipped rule file; the chart's copy is the same file.
const alertsFile = "prometheus/alerts.yaml"

func loadAlertRules(t *testing.T) ruleFile {
	t.Helper()
	b, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatalf("%s is not a Prometheus rule file: %v", alertsFile, err)
	}
	return f
}

// TestAlertRules checks the shipped alerts: each situation an operator must
// hear about has a rule, every rule says what happened and what to do, and
// the chart ships the very same file.
func TestAlertRules(t *testing.T) {
	f := loadAlertRules(t)
	alerts := map[string]bool{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			alerts[r.Alert] = true
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s lacks a severity, summary or description", r.Alert)
			}
		}
	}
	for _, want := range []string{
		"SwitchyardConsumerLagGrowing", "SwitchyardDeadLetters", "SwitchyardWorkerDown",
		"SwitchyardShadowMismatches", "SwitchyardVerifyStale", "SwitchyardBackfillStalled",
	} {
		if !alerts[want] {
			t.Errorf("no alert %s", want)
		}
	}
	chartCopy, err := filepath.EvalSymlinks(filepath.Join(chartDir, "files", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := filepath.EvalSymlinks(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	if chartCopy != shipped {
		t.Errorf("the chart's alerts (%s) and %s are different files", chartCopy, alertsFile)
	}
}

// TestDashboardAndAlertExpressionsParse parses every dashboard and alert
// expression with the Prometheus PromQL parser. (internal/opstest checks
// the metrics and labels they name against running processes.)
func TestDashboardAndAlertExpressionsParse(t *testing.T) {
	queries := shippedQueries(t)
	if len(queries) < 20 {
		t.Fatalf("found only %d expressions", len(queries))
	}
	for _, q := range queries {
		if q.Expr == "" {
			t.Errorf("%s: empty expression", q.Source)
			continue
		}
		if _, err := promcheck.Parse(q); err != nil {
			t.Error(err)
		}
	}
}

// shippedQueries returns every expression of the shipped dashboards and
// alert rules.
func shippedQueries(t *testing.T) []promcheck.Query {
	t.Helper()
	qs, err := promcheck.ShippedQueries(".")
	if err != nil {
		t.Fatal(err)
	}
	return qs
}
