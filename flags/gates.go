package flags

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/gate"
)

// Gate condition names, as shown in refusals and the audit log.
const (
	GateBackfill = "backfill-complete"
	GateVerify   = "verify-clean"
	GateShadow   = "shadow-clean"
	// GateThresholds fails while a gate threshold is set below its default
	// (or disabled), so every move onto the target store under lowered
	// gates must be forced and is recorded as such, with its reason.
	GateThresholds = "gate-thresholds"
)

// Default gate thresholds. A threshold may be raised freely; one below its
// default (or disabled with a negative value) makes the gate-thresholds
// condition fail, so moves then need force.
const (
	// DefaultMinShadowReads is the least number of compared shadow reads,
	// all matching, a client needs.
	DefaultMinShadowReads = 100
	// DefaultMinShadowKeys is the least number of distinct keys those reads
	// must cover, so one key read many times proves nothing.
	DefaultMinShadowKeys = 20
	// DefaultMinShadowSpan is the least time between the first and the last
	// compared shadow read, so a burst of reads proves nothing either.
	DefaultMinShadowSpan = 10 * time.Minute
)

// GateSource answers the migration questions the promotion gates ask. The
// migrator's state implements it through a small adapter; tests use fakes.
type GateSource interface {
	// BackfillComplete reports whether the backfill has copied everything,
	// with a detail for operators ("3 of 7 entities done").
	BackfillComplete(ctx context.Context) (bool, string, error)
	// ClientVerifyClean reports whether the last verify of the client found
	// both stores equal, with a detail ("2 mismatching keys in orders").
	ClientVerifyClean(ctx context.Context, client string) (bool, string, error)
}

// ShadowSource returns a client's shadow read counters summed over every
// router. ShadowStats implements it.
type ShadowSource interface {
	ClientStats(ctx context.Context, client string) (ShadowCounts, error)
}

// Condition is one promotion condition and whether it holds.
type Condition = gate.Condition

// GateStatus is the outcome of checking the gates for one client.
type GateStatus struct {
	Client     string      `json:"client"`
	Passed     bool        `json:"passed"`
	Conditions []Condition `json:"conditions"`
}

// Failed returns the conditions that do not hold.
func (s GateStatus) Failed() []Condition { return gate.Failed(s.Conditions) }

// GatesConfig configures the promotion gates. A zero threshold takes its
// default; a negative one disables that part of the shadow gate. Any
// threshold below its default fails the gate-thresholds condition.
type GatesConfig struct {
	// Source answers backfill and verify questions. Nil fails both
	// conditions with "no migration state configured", so a switch then
	// needs force.
	Source GateSource
	// Shadow supplies shadow counters. Nil fails the shadow condition.
	Shadow ShadowSource
	// MinShadowReads is the least number of compared shadow reads a client
	// needs, all matching; default 100. Negative disables the whole shadow
	// gate.
	MinShadowReads int64
	// MinShadowKeys is the least number of distinct keys the compared reads
	// must cover; default 20, at most MaxShadowKeys (the keys tracked per
	// client). Negative disables the requirement.
	MinShadowKeys int
	// MinShadowSpan is the least time from the first to the last compared
	// read; default 10 minutes. Negative disables the requirement.
	MinShadowSpan time.Duration
}

// Gates decides whether a client may move onto the target store.
type Gates struct {
	source   GateSource
	shadow   ShadowSource
	minReads int64
	minKeys  int
	minSpan  time.Duration
	// lowered describes the thresholds below their defaults; empty when
	// none is.
	lowered string
}

// Validate checks the thresholds: MinShadowKeys above MaxShadowKeys could
// never be reached. The error is an *InvalidError.
func (c GatesConfig) Validate() error {
	if c.MinShadowKeys > MaxShadowKeys {
		return invalid("min shadow keys", "%d is above %d, the most distinct keys tracked per client", c.MinShadowKeys, MaxShadowKeys)
	}
	return nil
}

// NewGates returns gates with cfg's defaults applied. Thresholds that
// Validate refuses make the shadow condition fail at every check, naming
// the problem.
func NewGates(cfg GatesConfig) *Gates {
	if cfg.MinShadowReads == 0 {
		cfg.MinShadowReads = DefaultMinShadowReads
	}
	if cfg.MinShadowKeys == 0 {
		cfg.MinShadowKeys = DefaultMinShadowKeys
	}
	if cfg.MinShadowSpan == 0 {
		cfg.MinShadowSpan = DefaultMinShadowSpan
	}
	g := &Gates{source: cfg.Source, shadow: cfg.Shadow, minReads: cfg.MinShadowReads, minKeys: cfg.MinShadowKeys, minSpan: cfg.MinShadowSpan}
	g.lowered = loweredThresholds(cfg)
	return g
}

// loweredThresholds names every threshold below its default.
func loweredThresholds(cfg GatesConfig) string {
	var out []string
	describe := func(name string, v, def any, disabled bool) {
		if disabled {
			out = append(out, fmt.Sprintf("%s disabled (default %v)", name, def))
			return
		}
		out = append(out, fmt.Sprintf("%s %v (default %v)", name, v, def))
	}
	if cfg.MinShadowReads < DefaultMinShadowReads {
		describe("min shadow reads", cfg.MinShadowReads, DefaultMinShadowReads, cfg.MinShadowReads < 0)
	}
	if cfg.MinShadowKeys < DefaultMinShadowKeys {
		describe("min shadow keys", cfg.MinShadowKeys, DefaultMinShadowKeys, cfg.MinShadowKeys < 0)
	}
	if cfg.MinShadowSpan < DefaultMinShadowSpan {
		describe("min shadow span", cfg.MinShadowSpan, DefaultMinShadowSpan, cfg.MinShadowSpan < 0)
	}
	return strings.Join(out, ", ")
}

// Lowered describes the thresholds set below their defaults, empty when
// none is.
func (g *Gates) Lowered() string { return g.lowered }

// Gated reports whether a move from one stage to another needs the gates:
// only a move onto the target store (from legacy or shadow to target or
// target-shadow). Rollbacks and moves between the target stages never are.
func Gated(from, to Stage) bool { return to.ServesTarget() && !from.ServesTarget() }

// Check evaluates every condition for client. A condition whose source
// fails counts as not holding, with the error as detail, so an outage of
// the migration state refuses switches instead of letting them through.
// Check itself fails only when ctx ends.
func (g *Gates) Check(ctx context.Context, client string) (GateStatus, error) {
	st := GateStatus{Client: client, Passed: true}
	add := func(c Condition) {
		st.Conditions = append(st.Conditions, c)
		st.Passed = st.Passed && c.OK
	}
	if g.source == nil {
		add(Condition{Name: GateBackfill, Detail: "no migration state configured"})
		add(Condition{Name: GateVerify, Detail: "no migration state configured"})
	} else {
		ok, detail, err := g.source.BackfillComplete(ctx)
		add(condition(GateBackfill, ok, detail, err))
		ok, detail, err = g.source.ClientVerifyClean(ctx, client)
		add(condition(GateVerify, ok, detail, err))
	}
	if g.minReads >= 0 {
		add(g.shadowCondition(ctx, client))
	}
	if g.lowered != "" {
		add(Condition{Name: GateThresholds, Detail: "lowered below the defaults: " + g.lowered})
	}
	if err := ctx.Err(); err != nil {
		return GateStatus{}, err
	}
	return st, nil
}

// Backfill evaluates only the backfill condition, for changes that move
// clients not known yet.
func (g *Gates) Backfill(ctx context.Context) Condition {
	if g.source == nil {
		return Condition{Name: GateBackfill, Detail: "no migration state configured"}
	}
	ok, detail, err := g.source.BackfillComplete(ctx)
	return condition(GateBackfill, ok, detail, err)
}

func condition(name string, ok bool, detail string, err error) Condition {
	if err != nil {
		return Condition{Name: name, Detail: "unknown: " + err.Error()}
	}
	return Condition{Name: name, OK: ok, Detail: detail}
}

func (g *Gates) shadowCondition(ctx context.Context, client string) Condition {
	if g.shadow == nil {
		return Condition{Name: GateShadow, Detail: "no shadow statistics configured"}
	}
	c, err := g.shadow.ClientStats(ctx, client)
	if err != nil {
		return Condition{Name: GateShadow, Detail: "unknown: " + err.Error()}
	}
	// Unsettled reads (keys that kept changing) are neither: they count
	// for nothing and are only mentioned.
	compared := c.Compared()
	var note string
	if c.Unsettled > 0 {
		note = fmt.Sprintf(" (%d unsettled, not counted)", c.Unsettled)
	}
	span := c.Span()
	switch {
	case c.Mismatches > 0:
		return Condition{Name: GateShadow, Detail: fmt.Sprintf("%d of %d shadow reads mismatched", c.Mismatches, compared) + note}
	case compared < g.minReads:
		return Condition{Name: GateShadow, Detail: fmt.Sprintf("%d shadow reads compared, %d needed", compared, g.minReads) + note}
	case g.minKeys > MaxShadowKeys:
		return Condition{Name: GateShadow, Detail: fmt.Sprintf("%d distinct keys needed, but at most %d are tracked per client", g.minKeys, MaxShadowKeys)}
	case g.minKeys >= 0 && c.Keys < g.minKeys:
		return Condition{Name: GateShadow, Detail: fmt.Sprintf("%d shadow reads compared, covering %d distinct keys; %d needed", compared, c.Keys, g.minKeys) + note}
	case g.minSpan >= 0 && span < g.minSpan:
		return Condition{Name: GateShadow, Detail: fmt.Sprintf("%d shadow reads compared over %s; %s needed", compared, span.Truncate(time.Second), g.minSpan) + note}
	}
	return Condition{Name: GateShadow, OK: true, Detail: fmt.Sprintf("%d shadow reads over %d distinct keys and %s, all matching", compared, c.Keys, span.Truncate(time.Second)) + note}
}
