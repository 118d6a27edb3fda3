package reads

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// routerMetrics are the read router's Prometheus metrics.
type routerMetrics struct {
	evaluations *prometheus.CounterVec   // stage
	evalErrors  prometheus.Counter       //
	shadow      *prometheus.CounterVec   // result
	settled     prometheus.Counter       //
	readSeconds *prometheus.HistogramVec // store
	readErrors  *prometheus.CounterVec   // store
	repairs     *prometheus.CounterVec   // result
	rollbacks   *prometheus.CounterVec   // result
}

func newRouterMetrics(reg prometheus.Registerer) (*routerMetrics, error) {
	m := &routerMetrics{
		evaluations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_flag_evaluations_total", Help: "Read-stage evaluations by the read router, by resulting stage.",
		}, []string{"stage"}),
		evalErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchyard_flag_evaluation_errors_total", Help: "Read-stage evaluations that failed and used the fallback stage.",
		}),
		shadow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_shadow_reads_total", Help: "Shadow comparisons by result: match, mismatch, unsettled, error, dropped, abandoned (the caller went away first).",
		}, []string{"result"}),
		settled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchyard_shadow_settled_total", Help: "Shadow comparisons that differed at first and matched when re-read (also counted as match).",
		}),
		readSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchyard_store_read_seconds", Help: "Latency of reads by the read router, by store (legacy, target).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"store"}),
		readErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_store_read_errors_total", Help: "Failed reads by the read router, by store (not found is not a failure).",
		}, []string{"store"}),
		repairs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_shadow_repairs_total", Help: "Repairs triggered by shadow mismatches, by result: ok, error.",
		}, []string{"result"}),
		rollbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_auto_rollbacks_total", Help: "Automatic rollbacks to legacy, by result: ok, error.",
		}, []string{"result"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.evaluations = register(reg, m.evaluations, &err)
	m.evalErrors = register(reg, m.evalErrors, &err)
	m.shadow = register(reg, m.shadow, &err)
	m.settled = register(reg, m.settled, &err)
	m.readSeconds = register(reg, m.readSeconds, &err)
	m.readErrors = register(reg, m.readErrors, &err)
	m.repairs = register(reg, m.repairs, &err)
	m.rollbacks = register(reg, m.rollbacks, &err)
	return m, err
}

// register registers c, or returns the collector already registered under
// the same name so several routers can share one registry.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, errp *error) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		if *errp == nil {
			*errp = fmt.Errorf("router metrics: %w", err)
		}
	}
	return c
}
