package migrator

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// ProgressMetrics exports the progress of the backfill and verify running
// in this process as Prometheus metrics, from the same snapshots the
// progress bar shows:
//
//	switchyard_backfill_rows_total          rows copied or skipped by all copiers (counter)
//	switchyard_backfill_rows_per_second     current rate (gauge)
//	switchyard_backfill_progress_ratio      rows done / estimated total (gauge)
//	switchyard_verify_rows_total            source rows compared (counter)
//	switchyard_verify_rows_per_second       current rate (gauge)
//	switchyard_verify_progress_ratio        rows compared / estimated total (gauge)
//	switchyard_verify_findings_total{kind}  differences reported (counter)
//
// It is safe for concurrent use. A nil *ProgressMetrics records nothing.
type ProgressMetrics struct {
	mu       sync.Mutex
	latest   map[string]ProgressSnapshot // by task
	findings *prometheus.CounterVec
	descs    map[string]taskDescs
}

type taskDescs struct{ rows, rate, ratio *prometheus.Desc }

// progressTasks are the tasks whose snapshots become metrics.
var progressTasks = []string{"backfill", "verify"}

// NewProgressMetrics registers the metrics on reg.
func NewProgressMetrics(reg prometheus.Registerer) (*ProgressMetrics, error) {
	m := &ProgressMetrics{
		latest: map[string]ProgressSnapshot{},
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_verify_findings_total",
			Help: "Differences verify reported, by kind (missing, extra, different, resurrected).",
		}, []string{"kind"}),
		descs: map[string]taskDescs{},
	}
	rowsHelp := map[string]string{
		"backfill": "Rows the backfill copied or skipped, across all its copiers (from the shared checkpoints).",
		"verify":   "Source rows this verify compared.",
	}
	for _, task := range progressTasks {
		m.descs[task] = taskDescs{
			rows:  prometheus.NewDesc("switchyard_"+task+"_rows_total", rowsHelp[task], nil, nil),
			rate:  prometheus.NewDesc("switchyard_"+task+"_rows_per_second", "Rows per second of the "+task+" over its last interval.", nil, nil),
			ratio: prometheus.NewDesc("switchyard_"+task+"_progress_ratio", "Rows handled over the estimated total of the "+task+" (0 to 1).", nil, nil),
		}
	}
	for _, kind := range FindingKinds {
		m.findings.WithLabelValues(string(kind))
	}
	if err := reg.Register(m); err != nil {
		return nil, err
	}
	if err := reg.Register(m.findings); err != nil {
		return nil, err
	}
	return m, nil
}

// Observe records a progress snapshot.
func (m *ProgressMetrics) Observe(s ProgressSnapshot) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.latest[s.Task] = s
	m.mu.Unlock()
}

// ObserveFinding counts one verify finding.
func (m *ProgressMetrics) ObserveFinding(kind FindingKind) {
	if m == nil {
		return
	}
	m.findings.WithLabelValues(string(kind)).Inc()
}

// Describe implements prometheus.Collector.
func (m *ProgressMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range m.descs {
		ch <- d.rows
		ch <- d.rate
		ch <- d.ratio
	}
}

// Collect implements prometheus.Collector. A task that has not reported
// yet exports zeros, so dashboards and alerts see the series from the start.
func (m *ProgressMetrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for task, d := range m.descs {
		s := m.latest[task]
		ratio := 0.0
		if s.Total > 0 {
			ratio = min(float64(s.Done)/float64(s.Total), 1)
		}
		ch <- prometheus.MustNewConstMetric(d.rows, prometheus.CounterValue, float64(s.Done))
		ch <- prometheus.MustNewConstMetric(d.rate, prometheus.GaugeValue, s.Rate)
		ch <- prometheus.MustNewConstMetric(d.ratio, prometheus.GaugeValue, ratio)
	}
}
