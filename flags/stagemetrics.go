package flags

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// StageCounter counts clients per read stage; *Store implements it.
type StageCounter interface {
	CountByStage(ctx context.Context) (map[string]int, error)
}

// stageCollector exports switchyard_clients_by_stage{stage}: how many known
// clients read from which stage, counted when Prometheus scrapes.
type stageCollector struct {
	counter StageCounter
	timeout time.Duration
	desc    *prometheus.Desc
	errDesc *prometheus.Desc
}

// RegisterStageMetrics registers switchyard_clients_by_stage{stage} on reg,
// counted from counter at every scrape within timeout (default 5 s). A scrape
// whose count fails exports switchyard_clients_by_stage_errors = 1 and no
// stage series, rather than stale numbers.
func RegisterStageMetrics(reg prometheus.Registerer, counter StageCounter, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	return reg.Register(&stageCollector{
		counter: counter,
		timeout: timeout,
		desc:    prometheus.NewDesc("switchyard_clients_by_stage", "Known clients per read stage (legacy, shadow, target-shadow, target).", []string{"stage"}, nil),
		errDesc: prometheus.NewDesc("switchyard_clients_by_stage_errors", "1 when the last count of clients per stage failed.", nil, nil),
	})
}

func (c *stageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
	ch <- c.errDesc
}

func (c *stageCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	counts, err := c.counter.CountByStage(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.errDesc, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.errDesc, prometheus.GaugeValue, 0)
	for _, stage := range Stages() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[string(stage)]), string(stage))
	}
}
