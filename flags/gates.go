package flags

import (
	"context"
	"fmt"
)

// Gate condition names, as shown in refusals and the audit log.
const (
	GateBackfill = "backfill-complete"
	GateVerify   = "verify-clean"
	GateShadow   = "shadow-clean"
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
type Condition struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

func (c Condition) String() string {
	if c.Detail == "" {
		return c.Name
	}
	return c.Name + ": " + c.Detail
}

// GateStatus is the outcome of checking the gates for one client.
type GateStatus struct {
	Client     string      `json:"client"`
	Passed     bool        `json:"passed"`
	Conditions []Condition `json:"conditions"`
}

// Failed returns the conditions that do not hold.
func (s GateStatus) Failed() []Condition {
	var out []Condition
	for _, c := range s.Conditions {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// GatesConfig configures the promotion gates.
type GatesConfig struct {
	// Source answers backfill and verify questions. Nil fails both
	// conditions with "no migration state configured", so a switch then
	// needs force.
	Source GateSource
	// Shadow supplies shadow counters. Nil fails the shadow condition.
	Shadow ShadowSource
	// MinShadowReads is the least number of compared shadow reads a client
	// needs, all matching; default 100. Negative disables the shadow gate.
	MinShadowReads int64
}

// Gates decides whether a client may move onto the target store.
type Gates struct {
	source   GateSource
	shadow   ShadowSource
	minReads int64
}

// NewGates returns gates with cfg's defaults applied.
func NewGates(cfg GatesConfig) *Gates {
	if cfg.MinShadowReads == 0 {
		cfg.MinShadowReads = 100
	}
	return &Gates{source: cfg.Source, shadow: cfg.Shadow, minReads: cfg.MinShadowReads}
}

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
	switch {
	case c.Mismatches > 0:
		return Condition{Name: GateShadow, Detail: fmt.Sprintf("%d of %d shadow reads mismatched", c.Mismatches, compared) + note}
	case compared < g.minReads:
		return Condition{Name: GateShadow, Detail: fmt.Sprintf("%d shadow reads compared, %d needed", compared, g.minReads) + note}
	}
	return Condition{Name: GateShadow, OK: true, Detail: fmt.Sprintf("%d shadow reads, all matching", compared) + note}
}
