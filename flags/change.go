package flags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/gate"
	"github.com/switchyard/switchyard/internal/lifecycle"
)

// Change sets one client's override.
type Change struct {
	Client string
	Stage  Stage
	// Reason (required) and Actor (required) are recorded in the override,
	// its history and the audit log.
	Reason string
	Actor  string
	// ExpectedRevision is the override revision the caller based the change
	// on (ClientView.Revision): 0 means the client must have no override.
	// AnyRevision skips the check. A mismatch fails with ErrConflict.
	ExpectedRevision uint64
	// Force applies the change although promotion gates fail. The failing
	// conditions are recorded in the override and the audit log.
	Force bool
}

// ChangeResult describes an applied change.
type ChangeResult struct {
	Client string `json:"client,omitempty"`
	// From and To are effective stages (for a rollout, "stage N%").
	From string `json:"from"`
	To   string `json:"to"`
	// Revision is the new bucket revision of the changed key.
	Revision uint64 `json:"revision"`
	// Forced is true when failing gates were overridden; FailedGates lists
	// them.
	Forced      bool        `json:"forced,omitempty"`
	FailedGates []Condition `json:"failed_gates,omitempty"`
	// AuditSeq is the audit stream sequence of the change.
	AuditSeq uint64 `json:"audit_seq"`
}

func validateChange(reason, actor string) error {
	if err := ValidateReason(reason); err != nil {
		return err
	}
	return ValidateActor(actor)
}

// SetStage sets client's override to c.Stage. A move onto the target store
// (Gated) must pass the promotion gates or be forced; a refusal is a
// *GateRefusedError naming every failing condition. Rollbacks are never
// gated. Errors: ErrInvalid for bad input, ErrConflict when the override's
// revision is not ExpectedRevision, ErrGateRefused, ErrUnavailable when the
// bucket cannot be reached, and ErrAudit when the change was applied but not
// recorded in the audit log (the result then describes the change).
func (s *Store) SetStage(ctx context.Context, c Change) (ChangeResult, error) {
	if err := ValidateClient(c.Client); err != nil {
		return ChangeResult{}, err
	}
	if !c.Stage.Valid() {
		_, err := ParseStage(string(c.Stage))
		return ChangeResult{}, err
	}
	if err := validateChange(c.Reason, c.Actor); err != nil {
		return ChangeResult{}, err
	}
	if s.audit == nil {
		return ChangeResult{}, fmt.Errorf("%w: no audit log configured; refusing an unrecorded change", ErrAudit)
	}
	view, err := s.Client(ctx, c.Client)
	if err != nil {
		return ChangeResult{}, err
	}
	if c.ExpectedRevision != AnyRevision && c.ExpectedRevision != view.Revision {
		return ChangeResult{}, fmt.Errorf("override of %s is at revision %d, expected %d: %w", gate.QuoteClient(c.Client), view.Revision, c.ExpectedRevision, ErrConflict)
	}
	res := ChangeResult{Client: c.Client, From: string(view.Stage), To: string(c.Stage)}
	if Gated(view.Stage, c.Stage) {
		st, err := s.gates.Check(ctx, c.Client)
		if err != nil {
			return ChangeResult{}, err
		}
		if failed := st.Failed(); len(failed) > 0 {
			if !c.Force {
				return ChangeResult{}, &GateRefusedError{Client: c.Client, Stage: c.Stage, Conditions: failed}
			}
			res.Forced, res.FailedGates = true, failed
		}
	}
	o := Override{
		Client: c.Client, Stage: c.Stage, Reason: c.Reason, Actor: c.Actor,
		UpdatedAt: time.Now().UTC(), Forced: res.Forced, FailedGates: conditionNames(res.FailedGates),
	}
	b, err := json.Marshal(o)
	if err != nil {
		return ChangeResult{}, err
	}
	if res.Revision, err = s.write(ctx, overrideKey(c.Client), b, view.Revision); err != nil {
		return ChangeResult{}, fmt.Errorf("override of %s: %w", gate.QuoteClient(c.Client), err)
	}
	return s.record(ctx, res, AuditEntry{Scope: ScopeClient, Client: c.Client, Actor: c.Actor, Reason: c.Reason}, view.Stage, c.Stage)
}

// write stores value under key if the key is still at rev (0: absent).
func (s *Store) write(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	var newRev uint64
	var err error
	if rev == 0 {
		newRev, err = s.kv.Create(ctx, key, value)
	} else {
		newRev, err = s.kv.Update(ctx, key, value, rev)
	}
	switch {
	case err == nil:
		return newRev, nil
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return 0, fmt.Errorf("changed concurrently: %w", ErrConflict)
	}
	return 0, s.unavailable(err)
}

// auditRetry is how record retries the audit entry of an applied change:
// three attempts, 200 ms and then 400 ms apart.
var auditRetry = lifecycle.Policy{Backoff: lifecycle.Backoff{Min: 200 * time.Millisecond, Max: 400 * time.Millisecond}, MaxAttempts: 3}

// record appends the audit entry for an applied change and advances the
// migration phase when the change leaves legacy.
func (s *Store) record(ctx context.Context, res ChangeResult, e AuditEntry, from, to Stage) (ChangeResult, error) {
	e.From, e.To, e.Revision = res.From, res.To, res.Revision
	e.Forced, e.FailedGates = res.Forced, conditionStrings(res.FailedGates)
	// The change is committed; a short retry keeps a brief outage from
	// leaving it unrecorded, and the caller learns if it still failed.
	var err error
	res.AuditSeq, err = lifecycle.RetryValue(ctx, auditRetry, func() (uint64, error) { return s.audit.Append(ctx, e) })
	if stopped, ok := errors.AsType[*lifecycle.InterruptedError](err); ok {
		err = stopped.Last
	}
	if err != nil {
		s.log.Error("flag change applied but not audited", "scope", e.Scope, "client", e.Client, "from", e.From, "to", e.To, "actor", e.Actor, "err", err)
		return res, fmt.Errorf("%w: %w", ErrAudit, err)
	}
	if s.advance != nil && from == StageLegacy && to != StageLegacy {
		if err := s.advance(ctx); err != nil {
			s.log.Warn("could not advance the migration phase to switching", "err", err)
		}
	}
	return res, nil
}

func conditionNames(cs []Condition) []string {
	if len(cs) == 0 {
		return nil
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

func conditionStrings(cs []Condition) []string {
	if len(cs) == 0 {
		return nil
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}

// Clear is a change that removes a client's override, so the client
// follows the rollout or the default again.
type Clear struct {
	Client, Reason, Actor string
	ExpectedRevision      uint64
	Force                 bool
}

// ClearOverride removes client's override. If that moves the client onto
// the target store, the gates apply as for SetStage. Clearing a client
// without an override fails with ErrNotFound.
func (s *Store) ClearOverride(ctx context.Context, c Clear) (ChangeResult, error) {
	if err := ValidateClient(c.Client); err != nil {
		return ChangeResult{}, err
	}
	if err := validateChange(c.Reason, c.Actor); err != nil {
		return ChangeResult{}, err
	}
	if s.audit == nil {
		return ChangeResult{}, fmt.Errorf("%w: no audit log configured; refusing an unrecorded change", ErrAudit)
	}
	cfg, _, err := s.Config(ctx)
	if err != nil {
		return ChangeResult{}, err
	}
	o, err := s.Override(ctx, c.Client)
	if err != nil {
		return ChangeResult{}, err
	}
	if c.ExpectedRevision != AnyRevision && c.ExpectedRevision != o.Revision {
		return ChangeResult{}, fmt.Errorf("override of %s is at revision %d, expected %d: %w", gate.QuoteClient(c.Client), o.Revision, c.ExpectedRevision, ErrConflict)
	}
	to := cfg.resolveWithoutOverride(c.Client).Stage
	res := ChangeResult{Client: c.Client, From: string(o.Stage), To: string(to)}
	if Gated(o.Stage, to) {
		st, err := s.gates.Check(ctx, c.Client)
		if err != nil {
			return ChangeResult{}, err
		}
		if failed := st.Failed(); len(failed) > 0 {
			if !c.Force {
				return ChangeResult{}, &GateRefusedError{Client: c.Client, Stage: to, Conditions: failed}
			}
			res.Forced, res.FailedGates = true, failed
		}
	}
	if err := s.kv.Delete(ctx, overrideKey(c.Client), jetstream.LastRevision(o.Revision)); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return ChangeResult{}, fmt.Errorf("override of %s changed concurrently: %w", gate.QuoteClient(c.Client), ErrConflict)
		}
		return ChangeResult{}, s.unavailable(err)
	}
	if e, err := s.kv.History(ctx, overrideKey(c.Client)); err == nil && len(e) > 0 {
		res.Revision = e[len(e)-1].Revision()
	}
	return s.record(ctx, res, AuditEntry{Scope: ScopeClient, Client: c.Client, Actor: c.Actor, Reason: c.Reason}, o.Stage, to)
}

// ConfigChange changes the default stage or the rollout.
type ConfigChange struct {
	Stage Stage
	// Reason and Actor are required.
	Reason, Actor string
	// ExpectedRevision is the configuration revision the caller read (0:
	// never written); AnyRevision skips the check.
	ExpectedRevision uint64
	Force            bool
}

// maxGateChecks bounds the clients a default or rollout change checks one by
// one; a change affecting more known clients must be forced.
const maxGateChecks = 1000

// SetDefault sets the default stage. When that moves known clients onto the
// target store, each must pass the gates (up to 1000 of them) and the
// backfill must be complete; otherwise the change needs force.
func (s *Store) SetDefault(ctx context.Context, c ConfigChange) (ChangeResult, error) {
	return s.changeConfig(ctx, c, ScopeDefault, func(cfg *Config) { cfg.Default = c.Stage })
}

// SetRollout puts basisPoints/100 percent of the clients without override
// (chosen stably by id) in c.Stage; 0 removes the rollout. Gates apply as
// for SetDefault to the known clients the change moves onto the target.
func (s *Store) SetRollout(ctx context.Context, c ConfigChange, basisPoints int) (ChangeResult, error) {
	if basisPoints < 0 || basisPoints > fullRollout {
		return ChangeResult{}, invalid("percentage", "%d basis points is outside 0..10000", basisPoints)
	}
	return s.changeConfig(ctx, c, ScopeRollout, func(cfg *Config) {
		if basisPoints == 0 {
			cfg.Rollout = nil
			return
		}
		cfg.Rollout = &Rollout{Stage: c.Stage, BasisPoints: basisPoints}
	})
}

func describeRollout(r *Rollout) string {
	if r == nil {
		return "none"
	}
	return fmt.Sprintf("%s %g%%", r.Stage, r.Percentage())
}

func (s *Store) changeConfig(ctx context.Context, c ConfigChange, scope string, mutate func(*Config)) (ChangeResult, error) {
	if !c.Stage.Valid() {
		_, err := ParseStage(string(c.Stage))
		return ChangeResult{}, err
	}
	if err := validateChange(c.Reason, c.Actor); err != nil {
		return ChangeResult{}, err
	}
	if s.audit == nil {
		return ChangeResult{}, fmt.Errorf("%w: no audit log configured; refusing an unrecorded change", ErrAudit)
	}
	known, snap, err := s.known(ctx)
	if err != nil {
		return ChangeResult{}, err
	}
	old := snap.Config()
	_, rev, err := s.Config(ctx)
	if err != nil {
		return ChangeResult{}, err
	}
	if c.ExpectedRevision != AnyRevision && c.ExpectedRevision != rev {
		return ChangeResult{}, fmt.Errorf("flag config is at revision %d, expected %d: %w", rev, c.ExpectedRevision, ErrConflict)
	}
	next := old
	if old.Rollout != nil {
		r := *old.Rollout
		next.Rollout = &r
	}
	mutate(&next)
	next.Reason, next.Actor, next.UpdatedAt = c.Reason, c.Actor, time.Now().UTC()
	res := ChangeResult{}
	if scope == ScopeDefault {
		res.From, res.To = string(old.Default), string(next.Default)
	} else {
		res.From, res.To = describeRollout(old.Rollout), describeRollout(next.Rollout)
	}
	failed, err := s.checkConfigGates(ctx, known, snap, &old, &next)
	if err != nil {
		return ChangeResult{}, err
	}
	if len(failed) > 0 {
		if !c.Force {
			return ChangeResult{}, &GateRefusedError{Stage: c.Stage, Conditions: failed}
		}
		res.Forced, res.FailedGates = true, failed
	}
	next.Forced = res.Forced
	b, err := json.Marshal(next)
	if err != nil {
		return ChangeResult{}, err
	}
	if res.Revision, err = s.write(ctx, configKey, b, rev); err != nil {
		return ChangeResult{}, fmt.Errorf("flag config: %w", err)
	}
	from, to := StageLegacy, StageLegacy
	if leavesLegacy(&old, &next) {
		to = c.Stage
	}
	return s.record(ctx, res, AuditEntry{Scope: scope, Actor: c.Actor, Reason: c.Reason}, from, to)
}

// leavesLegacy reports whether the configuration change can move someone
// off legacy.
func leavesLegacy(old, next *Config) bool {
	if next.Default != StageLegacy && old.Default == StageLegacy {
		return true
	}
	return next.Rollout != nil && next.Rollout.Stage != StageLegacy &&
		(old.Rollout == nil || old.Rollout.BasisPoints < next.Rollout.BasisPoints || old.Rollout.Stage != next.Rollout.Stage)
}

// checkConfigGates returns the failing conditions of a configuration change:
// per known client it moves onto the target, and the backfill when any
// client (known or not) may move there.
func (s *Store) checkConfigGates(ctx context.Context, known map[string]time.Time, snap *Snapshot, old, next *Config) ([]Condition, error) {
	var moved []string
	for c := range known {
		if _, ok := snap.Override(c); ok {
			continue
		}
		if Gated(old.resolveWithoutOverride(c).Stage, next.resolveWithoutOverride(c).Stage) {
			moved = append(moved, c)
		}
	}
	mayMoveUnknown := next.Default.ServesTarget() && !old.Default.ServesTarget() ||
		next.Rollout != nil && next.Rollout.Stage.ServesTarget() && !sameRollout(old.Rollout, next.Rollout)
	if len(moved) == 0 && !mayMoveUnknown {
		return nil, nil
	}
	if len(moved) > maxGateChecks {
		return []Condition{{Name: "gate-check-limit", Detail: fmt.Sprintf("the change moves %d known clients onto the target, more than %d to check one by one", len(moved), maxGateChecks)}}, nil
	}
	var failed []Condition
	if len(moved) == 0 {
		if cond := s.gates.Backfill(ctx); !cond.OK {
			failed = append(failed, cond)
		}
		return failed, ctx.Err()
	}
	byName := map[string][]string{}
	details := map[string]string{}
	for _, client := range moved {
		st, err := s.gates.Check(ctx, client)
		if err != nil {
			return nil, err
		}
		for _, cond := range st.Failed() {
			if cond.Name == GateBackfill {
				details[GateBackfill] = cond.Detail
				byName[GateBackfill] = nil
				continue
			}
			byName[cond.Name] = append(byName[cond.Name], client)
		}
	}
	for _, name := range []string{GateBackfill, GateVerify, GateShadow} {
		clients, ok := byName[name]
		if !ok {
			continue
		}
		detail := details[name]
		if len(clients) > 0 {
			shown := clients[:min(len(clients), 10)]
			quoted := make([]string, len(shown))
			for i, c := range shown {
				quoted[i] = gate.QuoteClient(c)
			}
			detail = fmt.Sprintf("fails for %d clients: %s", len(clients), strings.Join(quoted, ", "))
			if len(clients) > len(shown) {
				detail += ", …"
			}
		}
		failed = append(failed, Condition{Name: name, Detail: detail})
	}
	return failed, nil
}

func sameRollout(a, b *Rollout) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Stage == b.Stage && a.BasisPoints >= b.BasisPoints
}

// ResetShadowStats forgets client's shadow counters in every router, so the
// shadow gate counts from zero again (for instance after its mismatches
// were repaired), and records who did it and why in the audit log. It
// returns the audit sequence.
func (s *Store) ResetShadowStats(ctx context.Context, client, reason, actor string) (uint64, error) {
	if err := ValidateClient(client); err != nil {
		return 0, err
	}
	if err := validateChange(reason, actor); err != nil {
		return 0, err
	}
	if s.audit == nil {
		return 0, fmt.Errorf("%w: no audit log configured; refusing an unrecorded change", ErrAudit)
	}
	if s.shadow == nil {
		return 0, fmt.Errorf("resetting shadow counters: no shadow statistics configured: %w", ErrUnavailable)
	}
	before, err := s.shadow.ClientStats(ctx, client)
	if err != nil {
		return 0, err
	}
	if err := s.shadow.Reset(ctx, client); err != nil {
		return 0, err
	}
	seq, err := s.audit.Append(ctx, AuditEntry{
		Scope: ScopeShadowReset, Client: client, Actor: actor, Reason: reason,
		From: fmt.Sprintf("%d compared, %d mismatched", before.Compared(), before.Mismatches), To: "0 compared",
	})
	if err != nil {
		return 0, fmt.Errorf("shadow counters of %s reset but not audited: %w", gate.QuoteClient(client), err)
	}
	return seq, nil
}
