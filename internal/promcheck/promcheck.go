// Package promcheck keeps the shipped dashboards and alert rules honest: it
// reads every PromQL expression (and legend) out of Grafana dashboards and
// Prometheus rule files, parses each with the Prometheus PromQL parser, and
// checks that every metric and label an expression names is one that the
// Switchyard processes export, as scraped from their /metrics.
package promcheck

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

// Query is one expression of a dashboard panel or a rule.
type Query struct {
	// Source says where the expression is, such as
	// "switchyard-migration.json: panel "Consumer lag" A".
	Source string
	Expr   string
	// Legend is the panel's legend format ("{{subscription}}"); empty for rules.
	Legend string
}

// DashboardQueries reads a Grafana dashboard (JSON model) and returns the
// expression of every panel target, in rows too.
func DashboardQueries(path string) ([]Query, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	type target struct {
		RefID        string `json:"refId"`
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
	}
	type panel struct {
		Title   string   `json:"title"`
		Targets []target `json:"targets"`
		Panels  []panel  `json:"panels"`
	}
	var d struct {
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []Query
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, t := range p.Targets {
				out = append(out, Query{Source: fmt.Sprintf("%s: panel %q %s", path, p.Title, t.RefID), Expr: t.Expr, Legend: t.LegendFormat})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out, nil
}

// RuleQueries reads a Prometheus rule file and returns the expression of
// every alerting and recording rule. Label references in annotations
// ({{ $labels.NAME }}) are returned as the legend, so they are checked too.
func RuleQueries(path string) ([]Query, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert"`
				Record      string            `json:"record"`
				Expr        string            `json:"expr"`
				Annotations map[string]string `json:"annotations"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []Query
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			name := r.Alert + r.Record
			var legend strings.Builder
			for _, k := range slices.Sorted(maps.Keys(r.Annotations)) {
				for _, m := range annotationLabel.FindAllStringSubmatch(r.Annotations[k], -1) {
					legend.WriteString("{{" + m[1] + "}}")
				}
			}
			out = append(out, Query{Source: fmt.Sprintf("%s: rule %s", path, name), Expr: r.Expr, Legend: legend.String()})
		}
	}
	return out, nil
}

var (
	annotationLabel = regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`)
	legendLabel     = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
	// grafanaVariables are Grafana's interval variables, which are not PromQL.
	grafanaVariables = strings.NewReplacer("$__rate_interval", "5m", "${__rate_interval}", "5m", "$__interval", "1m", "${__interval}", "1m", "$__range", "1h")
)

// ShippedQueries returns every expression of the dashboards and alert rules
// shipped under deployDir (the repository's deploy/ folder): each
// grafana/*.json dashboard and prometheus/alerts.yaml.
func ShippedQueries(deployDir string) ([]Query, error) {
	dashboards, err := filepath.Glob(filepath.Join(deployDir, "grafana", "*.json"))
	if err != nil {
		return nil, err
	}
	if len(dashboards) == 0 {
		return nil, fmt.Errorf("no dashboards under %s", filepath.Join(deployDir, "grafana"))
	}
	var out []Query
	for _, d := range dashboards {
		qs, err := DashboardQueries(d)
		if err != nil {
			return nil, err
		}
		out = append(out, qs...)
	}
	qs, err := RuleQueries(filepath.Join(deployDir, "prometheus", "alerts.yaml"))
	if err != nil {
		return nil, err
	}
	return append(out, qs...), nil
}

// Parse parses the expression of q with the Prometheus PromQL parser.
func Parse(q Query) (parser.Expr, error) {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(grafanaVariables.Replace(q.Expr))
	if err != nil {
		return nil, fmt.Errorf("%s: %q does not parse: %w", q.Source, q.Expr, err)
	}
	return expr, nil
}

// Series are exported metric names with the label names each carries.
type Series map[string]map[string]bool

// targetLabels are the labels Prometheus adds to every scraped series.
var targetLabels = []string{"job", "instance"}

// synthesized are the series Prometheus itself records for each target.
var synthesized = []string{"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"}

// NewSeries returns Series holding what Prometheus records itself for
// every target.
func NewSeries() Series {
	s := Series{}
	for _, name := range synthesized {
		s.add(name, nil)
	}
	return s
}

func (s Series) add(name string, labels []string) {
	if s[name] == nil {
		s[name] = map[string]bool{}
	}
	for _, l := range append(labels, targetLabels...) {
		s[name][l] = true
	}
}

// AddExposition adds the series of a /metrics response in the Prometheus
// text format, as Prometheus stores them: a histogram becomes
// NAME_bucket (with le), NAME_sum and NAME_count, a summary NAME (with
// quantile), NAME_sum and NAME_count.
func (s Series) AddExposition(r io.Reader) error {
	tp := expfmt.NewTextParser(model.UTF8Validation)
	families, err := tp.TextToMetricFamilies(r)
	if err != nil {
		return err
	}
	for name, f := range families {
		for _, m := range f.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, l.GetName())
			}
			switch f.GetType() {
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				s.add(name+"_bucket", append(slices.Clone(labels), "le"))
				s.add(name+"_sum", labels)
				s.add(name+"_count", labels)
			case dto.MetricType_SUMMARY:
				s.add(name, append(slices.Clone(labels), "quantile"))
				s.add(name+"_sum", labels)
				s.add(name+"_count", labels)
			default:
				s.add(name, labels)
			}
		}
	}
	return nil
}

// Check parses q and returns what it names that the series do not have:
// unknown metrics, label matchers, grouping and matching labels that the
// selected series lack, and legend labels the result does not carry. A
// parse error is returned as the error.
func (s Series) Check(q Query) ([]string, error) {
	expr, err := Parse(q)
	if err != nil {
		return nil, err
	}
	c := checker{series: s}
	out := c.labels(expr)
	for _, m := range legendLabel.FindAllStringSubmatch(q.Legend, -1) {
		if out != nil && !out[m[1]] {
			c.problem("the legend names label %q, which the result does not carry (it has %s)", m[1], list(out))
		}
	}
	for i := range c.problems {
		c.problems[i] = q.Source + ": " + c.problems[i]
	}
	return c.problems, nil
}

type checker struct {
	series   Series
	problems []string
}

func (c *checker) problem(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// labels checks node and returns the label names its result carries; nil
// means unknown (no further label checks), an empty set means none.
func (c *checker) labels(node parser.Node) map[string]bool {
	switch n := node.(type) {
	case *parser.VectorSelector:
		exported, ok := c.series[n.Name]
		if !ok {
			c.problem("metric %s is not exported by any process", n.Name)
			return nil
		}
		for _, m := range n.LabelMatchers {
			if m.Name == model.MetricNameLabel {
				continue
			}
			if !exported[m.Name] {
				c.problem("%s has no label %q (it has %s)", n.Name, m.Name, list(exported))
			}
		}
		return maps.Clone(exported)
	case *parser.MatrixSelector:
		return c.labels(n.VectorSelector)
	case *parser.SubqueryExpr:
		return c.labels(n.Expr)
	case *parser.ParenExpr:
		return c.labels(n.Expr)
	case *parser.StepInvariantExpr:
		return c.labels(n.Expr)
	case *parser.UnaryExpr:
		return c.labels(n.Expr)
	case *parser.NumberLiteral, *parser.StringLiteral:
		return map[string]bool{}
	case *parser.AggregateExpr:
		if n.Param != nil {
			c.labels(n.Param)
		}
		inner := c.labels(n.Expr)
		c.need(inner, n.Grouping, "grouping of "+n.Op.String())
		if n.Without {
			if inner == nil {
				return nil
			}
			out := maps.Clone(inner)
			for _, g := range n.Grouping {
				delete(out, g)
			}
			return out
		}
		out := map[string]bool{}
		for _, g := range n.Grouping {
			out[g] = true
		}
		switch n.Op {
		case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
			return inner
		case parser.COUNT_VALUES:
			if s, ok := n.Param.(*parser.StringLiteral); ok {
				out[s.Val] = true
			}
		}
		return out
	case *parser.Call:
		var first map[string]bool
		firstSet := false
		for _, a := range n.Args {
			l := c.labels(a)
			if !firstSet && (a.Type() == parser.ValueTypeVector || a.Type() == parser.ValueTypeMatrix) {
				first, firstSet = l, true
			}
		}
		switch n.Func.Name {
		case "histogram_quantile":
			c.need(first, []string{"le"}, "histogram_quantile")
			if first != nil {
				first = maps.Clone(first)
				delete(first, "le")
			}
		case "absent", "absent_over_time":
			return map[string]bool{}
		case "label_replace":
			if first != nil {
				if dst, ok := n.Args[1].(*parser.StringLiteral); ok {
					first = maps.Clone(first)
					first[dst.Val] = true
				}
			}
		case "vector", "time", "scalar":
			return map[string]bool{}
		}
		if !firstSet {
			return map[string]bool{}
		}
		return first
	case *parser.BinaryExpr:
		lhs, rhs := c.labels(n.LHS), c.labels(n.RHS)
		if n.VectorMatching != nil && n.LHS.Type() == parser.ValueTypeVector && n.RHS.Type() == parser.ValueTypeVector {
			if n.VectorMatching.On {
				c.need(lhs, n.VectorMatching.MatchingLabels, "on() of "+n.Op.String())
				c.need(rhs, n.VectorMatching.MatchingLabels, "on() of "+n.Op.String())
			}
			c.need(rhs, n.VectorMatching.Include, "group_left()")
		}
		switch {
		case n.LHS.Type() != parser.ValueTypeVector:
			return rhs
		case n.Op == parser.LOR && lhs != nil && rhs != nil:
			out := maps.Clone(lhs)
			maps.Copy(out, rhs)
			return out
		}
		return lhs
	}
	return nil
}

// need reports each of names that have lacks.
func (c *checker) need(have map[string]bool, names []string, what string) {
	if have == nil {
		return
	}
	for _, name := range names {
		if !have[name] {
			c.problem("the %s names label %q, which its input does not carry (it has %s)", what, name, list(have))
		}
	}
}

func list(set map[string]bool) string {
	if len(set) == 0 {
		return "no labels"
	}
	return strings.Join(slices.Sorted(maps.Keys(set)), ", ")
}
