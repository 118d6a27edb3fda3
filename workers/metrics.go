package workers

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus series of the worker runtime, labelled by
// subscription (the consumer name). One Metrics serves every Worker of a
// process.
type Metrics struct {
	applied       *prometheus.CounterVec
	skipped       *prometheus.CounterVec
	duplicates    *prometheus.CounterVec
	failed        *prometheus.CounterVec
	deadLettered  *prometheus.CounterVec
	batchSize     *prometheus.HistogramVec
	batchDuration *prometheus.HistogramVec
	lag           *prometheus.GaugeVec
	deadLetters   *prometheus.GaugeVec
}

// NewMetrics creates the worker series and registers them on reg (never the
// global registry). Registering twice on one registry returns metrics
// backed by the collectors already there, so several workers of one process
// can each call it. It fails when reg holds an incompatible series of the
// same name.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	sub := []string{"subscription"}
	subKind := []string{"subscription", "kind"}
	m := &Metrics{
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_events_applied_total", Help: "Events whose write changed a row of the store.",
		}, sub),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_events_skipped_total", Help: "Events whose write lost to the version fence (stale or superseded).",
		}, sub),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_events_duplicate_total", Help: "Events dropped because their id was already in the store's ledger.",
		}, sub),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_events_failed_total", Help: "Events negatively acknowledged because their batch failed, by kind of failure.",
		}, subKind),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_events_dead_lettered_total", Help: "Events copied to the dead-letter stream, by kind of reason.",
		}, subKind),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchyard_batch_size", Help: "Messages per batch.",
			Buckets: []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000},
		}, sub),
		batchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchyard_batch_duration_seconds", Help: "Time to handle one batch (decode excluded, dead-lettering and apply included).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, sub),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchyard_consumer_lag", Help: "Messages the subscription has not yet acknowledged (pending plus ack pending). Every replica exports the consumer's figure: aggregate with max, not sum.",
		}, sub),
		deadLetters: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchyard_dead_letters", Help: "Dead letters of the subscription waiting in the dead-letter stream (replay or purge them). Every replica exports the stream's figure: aggregate with max, not sum.",
		}, sub),
	}
	var err error
	if m.applied, err = register(reg, m.applied); err != nil {
		return nil, err
	}
	if m.skipped, err = register(reg, m.skipped); err != nil {
		return nil, err
	}
	if m.duplicates, err = register(reg, m.duplicates); err != nil {
		return nil, err
	}
	if m.failed, err = register(reg, m.failed); err != nil {
		return nil, err
	}
	if m.deadLettered, err = register(reg, m.deadLettered); err != nil {
		return nil, err
	}
	if m.batchSize, err = register(reg, m.batchSize); err != nil {
		return nil, err
	}
	if m.batchDuration, err = register(reg, m.batchDuration); err != nil {
		return nil, err
	}
	if m.lag, err = register(reg, m.lag); err != nil {
		return nil, err
	}
	if m.deadLetters, err = register(reg, m.deadLetters); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered under
// the same description.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

// Middleware records every batch of subscription: its size and duration,
// what the store applied, skipped and dropped as duplicates, what was
// dead-lettered (by poison kind) and what failed (by failure kind). It is
// the outermost middleware so it sees the final outcome.
func (m *Metrics) Middleware(subscription string) Middleware {
	applied := m.applied.WithLabelValues(subscription)
	skipped := m.skipped.WithLabelValues(subscription)
	duplicates := m.duplicates.WithLabelValues(subscription)
	size := m.batchSize.WithLabelValues(subscription)
	duration := m.batchDuration.WithLabelValues(subscription)
	// Every series of the subscription exists from the start at zero, so
	// dashboards and alerts on rates and increases see the first failure.
	for _, kind := range []string{"transient", "store", "rejected", "panic", "canceled", "dead-letter"} {
		m.failed.WithLabelValues(subscription, kind)
	}
	for _, kind := range []string{KindDecode, KindInvalid, KindVersion, KindTooLarge, KindRejected, KindMaxDeliveries} {
		m.deadLettered.WithLabelValues(subscription, kind)
	}
	return func(next Handler) Handler {
		return func(ctx context.Context, b *Batch) error {
			start := time.Now()
			err := next(ctx, b)
			duration.Observe(time.Since(start).Seconds())
			size.Observe(float64(len(b.Messages)))
			for i := range b.Messages {
				msg := &b.Messages[i]
				switch msg.disposition {
				case DeadLettered:
					m.deadLettered.WithLabelValues(subscription, msg.Poison.Kind).Inc()
				case Requeued:
					m.failed.WithLabelValues(subscription, "dead-letter").Inc()
				}
			}
			if err != nil {
				if n := b.count(Pending); n > 0 {
					m.failed.WithLabelValues(subscription, failureKind(err)).Add(float64(n))
				}
				return err
			}
			applied.Add(float64(b.Result.Applied))
			skipped.Add(float64(b.Result.Skipped))
			duplicates.Add(float64(b.Result.Duplicates))
			return nil
		}
	}
}

// SetDeadLetters records the dead-letter depth of subscription.
func (m *Metrics) SetDeadLetters(subscription string, depth uint64) {
	m.deadLetters.WithLabelValues(subscription).Set(float64(depth))
}

// SetLag records the lag of subscription.
func (m *Metrics) SetLag(subscription string, lag uint64) {
	m.lag.WithLabelValues(subscription).Set(float64(lag))
}
