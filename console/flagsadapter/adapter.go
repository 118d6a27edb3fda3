package flagsadapter

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/flags"
)

// maxPageSize is the most clients flags.Store.ListClients returns at once.
const maxPageSize = 999

// Adapter implements console.Flags. It holds no state of its own; every
// call reads the flag bucket, so several consoles can share one bucket.
type Adapter struct {
	store      *flags.Store
	shadow     flags.ShadowSource
	mismatches MismatchSource
	sampleLog  SampleLog
}

// SampleLog is where read routers in other processes keep each client's
// recent mismatching keys. *flags.ShadowSamples implements it.
type SampleLog interface {
	ClientSamples(ctx context.Context, client string) ([]flags.MismatchSample, error)
	Reset(ctx context.Context, client string) error
}

// MismatchSource lists recent mismatching keys, newest first.
// *reads.Router implements it for the reads it routed itself.
type MismatchSource interface {
	Mismatches() []flags.MismatchSample
}

// maxSampleKeys is how many mismatching keys a client detail lists.
const maxSampleKeys = 10

var _ console.Flags = (*Adapter)(nil)

// New adapts store. shadow supplies the shadow statistics (normally the
// *flags.ShadowStats the read routers write to); nil shows them as
// unavailable. Changes need a store opened with an audit log: without one
// every change fails, so nothing is changed unrecorded.
func New(store *flags.Store, shadow flags.ShadowSource) *Adapter {
	return &Adapter{store: store, shadow: shadow}
}

// WithMismatches makes client details list the recent mismatching keys
// src saw. Mismatch samples live in the memory of the router that saw
// them, so this helps only where a router runs in the console's process
// (the quickstart); it returns a for chaining.
func (a *Adapter) WithMismatches(src MismatchSource) *Adapter {
	a.mismatches = src
	return a
}

// WithSampleLog makes client details list the recent mismatching keys the
// read routers keep in log (normally the shadow statistics' bucket), and a
// shadow reset clear them too; it returns a for chaining.
func (a *Adapter) WithSampleLog(log SampleLog) *Adapter {
	a.sampleLog = log
	return a
}

// Search lists known clients whose id contains query, ignoring case.
func (a *Adapter) Search(ctx context.Context, query string, page console.PageRequest) (console.ClientPage, error) {
	size := min(max(page.Size, 1), maxPageSize)
	views, err := a.store.ListClients(ctx, flags.ClientQuery{Search: query, After: page.After, Limit: size + 1})
	if err != nil {
		return console.ClientPage{}, translate(err)
	}
	out := console.ClientPage{More: len(views) > size}
	for _, v := range views[:min(len(views), size)] {
		out.Clients = append(out.Clients, console.ClientSummary{ID: v.Client, Stage: console.Stage(v.Stage), Source: console.StageSource(v.Source)})
	}
	return out, nil
}

// Client returns the client's stage and source, its gate status and
// shadow statistics. Gate and statistics failures are reported inside the
// detail rather than failing the call, so the page still shows the stage.
func (a *Adapter) Client(ctx context.Context, id string) (console.ClientDetail, error) {
	v, err := a.store.Client(ctx, id)
	if err != nil {
		return console.ClientDetail{}, translate(err)
	}
	d := console.ClientDetail{
		ID:       v.Client,
		Stage:    console.Stage(v.Stage),
		Source:   console.StageSource(v.Source),
		Revision: v.Revision,
		LastSeen: v.LastSeen,
	}
	if o := v.Override; o != nil {
		d.Override = &console.OverrideInfo{Actor: o.Actor, At: o.UpdatedAt, Reason: o.Reason, Forced: o.Forced}
		d.SourceDetail = "set for this client"
	}
	if cfg, _, err := a.store.Config(ctx); err != nil {
		if v.Source != flags.SourceOverride {
			d.SourceDetail = "configuration unavailable: " + err.Error()
		}
	} else {
		d.Fallback, d.FallbackSource = fallback(&cfg, id)
		if v.Source != flags.SourceOverride {
			d.SourceDetail = describeConfig(&cfg, v.Source)
		}
	}
	if gs, err := a.store.GateStatus(ctx, id); err != nil {
		d.Gates.Unavailable = err.Error()
	} else {
		d.Gates.Passed = gs.Passed
		d.Gates.Conditions = gs.Conditions
	}
	d.Shadow = a.shadowStats(ctx, id)
	d.Shadow.SampleKeys = a.sampleKeys(ctx, id)
	if changes, err := a.store.UnauditedChanges(ctx, id); err != nil {
		d.UnauditedUnavailable = err.Error()
	} else {
		for _, c := range changes {
			d.Unaudited = append(d.Unaudited, console.UnauditedChange{Revision: c.Revision, At: c.Time, Operation: c.Operation, Stage: console.Stage(c.Stage)})
		}
	}
	return d, nil
}

// fallback is the stage client has without an override.
func fallback(cfg *flags.Config, client string) (console.Stage, console.StageSource) {
	if cfg.InRollout(client) {
		return console.Stage(cfg.Rollout.Stage), console.SourceRollout
	}
	if cfg.Default == "" {
		return console.StageLegacy, console.SourceDefault
	}
	return console.Stage(cfg.Default), console.SourceDefault
}

func describeConfig(cfg *flags.Config, src flags.Source) string {
	if src == flags.SourceRollout && cfg.Rollout != nil {
		return fmt.Sprintf("inside the rollout of %g%% of the clients to %s", cfg.Rollout.Percentage(), cfg.Rollout.Stage)
	}
	msg := "the default stage of clients without their own setting"
	if cfg.Rollout != nil && cfg.Rollout.BasisPoints > 0 {
		msg += fmt.Sprintf(" (outside the %g%% rollout to %s)", cfg.Rollout.Percentage(), cfg.Rollout.Stage)
	}
	return msg
}

func (a *Adapter) shadowStats(ctx context.Context, id string) console.ShadowStats {
	if a.shadow == nil {
		return console.ShadowStats{Unavailable: "no shadow statistics source is configured"}
	}
	c, err := a.shadow.ClientStats(ctx, id)
	if err != nil {
		return console.ShadowStats{Unavailable: err.Error()}
	}
	return console.ShadowStats{
		Compared:     nonNegative(c.Compared()),
		Matches:      nonNegative(c.Matches),
		Mismatches:   nonNegative(c.Mismatches),
		Errors:       nonNegative(c.Errors),
		Settled:      nonNegative(c.Settled),
		Unsettled:    nonNegative(c.Unsettled),
		TargetReads:  nonNegative(c.TargetReads),
		TargetErrors: nonNegative(c.TargetErrors),
		UpdatedAt:    c.UpdatedAt,
	}
}

// sampleKeys lists the client's recent mismatching keys, newest first: from
// the sample log, or else from a router in this process. A sample log
// that cannot be read shows no samples rather than failing the page.
func (a *Adapter) sampleKeys(ctx context.Context, client string) []string {
	var samples []flags.MismatchSample
	switch {
	case a.sampleLog != nil:
		samples, _ = a.sampleLog.ClientSamples(ctx, client)
	case a.mismatches != nil:
		samples = a.mismatches.Mismatches()
	}
	var keys []string
	for _, m := range samples {
		if m.Client != client {
			continue
		}
		keys = append(keys, fmt.Sprintf("%s/%s (%s)", m.Entity, m.Key, m.Kind))
		if len(keys) == maxSampleKeys {
			break
		}
	}
	return keys
}

func nonNegative(n int64) uint64 { return uint64(max(n, 0)) }

// SetStage sets the client's override. Without an expected revision it
// bases the change on the revision it reads first (after checking the
// expected stage), so a concurrent change still fails with
// console.ErrConflict rather than being overwritten.
func (a *Adapter) SetStage(ctx context.Context, ch console.StageChange) (console.ClientDetail, error) {
	var rev uint64
	if ch.ExpectedRevision != nil {
		rev = *ch.ExpectedRevision
	}
	if ch.ExpectedStage != "" || ch.ExpectedRevision == nil {
		v, err := a.store.Client(ctx, ch.ClientID)
		if err != nil {
			return console.ClientDetail{}, translate(err)
		}
		if ch.ExpectedStage != "" && console.Stage(v.Stage) != ch.ExpectedStage {
			return console.ClientDetail{}, fmt.Errorf("%w: client %q is now in %s, not %s", console.ErrConflict, ch.ClientID, v.Stage, ch.ExpectedStage)
		}
		if ch.ExpectedRevision == nil {
			rev = v.Revision
		}
	}
	_, err := a.store.SetStage(ctx, flags.Change{
		Client:           ch.ClientID,
		Stage:            flags.Stage(ch.To),
		Reason:           ch.Reason,
		Actor:            ch.Actor,
		ExpectedRevision: rev,
		Force:            ch.Force,
	})
	if err != nil {
		return console.ClientDetail{}, translate(err)
	}
	return a.Client(ctx, ch.ClientID)
}

// ClearOverride removes the client's override. Without an expected
// revision it uses the revision it reads first, so a concurrent change
// still fails with console.ErrConflict.
func (a *Adapter) ClearOverride(ctx context.Context, ch console.OverrideClear) (console.ClientDetail, error) {
	var rev uint64
	if ch.ExpectedRevision != nil {
		rev = *ch.ExpectedRevision
	} else {
		v, err := a.store.Client(ctx, ch.ClientID)
		if err != nil {
			return console.ClientDetail{}, translate(err)
		}
		rev = v.Revision
	}
	_, err := a.store.ClearOverride(ctx, flags.Clear{Client: ch.ClientID, Reason: ch.Reason, Actor: ch.Actor, ExpectedRevision: rev, Force: ch.Force})
	if errors.Is(err, flags.ErrNotFound) {
		return console.ClientDetail{}, fmt.Errorf("%w: client %q has no stage of its own to clear", console.ErrInvalidChange, ch.ClientID)
	}
	if err != nil {
		return console.ClientDetail{}, translate(err)
	}
	return a.Client(ctx, ch.ClientID)
}

// ResetShadow clears the client's shadow counters through the store, which
// records the reset in the audit log.
func (a *Adapter) ResetShadow(ctx context.Context, r console.ShadowReset) (console.ClientDetail, error) {
	if _, err := a.store.ResetShadowStats(ctx, r.ClientID, r.Reason, r.Actor); err != nil {
		return console.ClientDetail{}, translate(err)
	}
	if a.sampleLog != nil {
		// The reset is recorded; stale samples would only mislead.
		if err := a.sampleLog.Reset(ctx, r.ClientID); err != nil {
			return console.ClientDetail{}, fmt.Errorf("%w: counters reset, samples kept: %w", console.ErrUnavailable, err)
		}
	}
	return a.Client(ctx, r.ClientID)
}

// Audit lists the audit log the store appends to.
func (a *Adapter) Audit(ctx context.Context, q console.AuditQuery) ([]console.AuditEntry, error) {
	log := a.store.Audit()
	if log == nil {
		return nil, fmt.Errorf("%w: the flag store has no audit log", console.ErrUnavailable)
	}
	es, err := log.List(ctx, flags.AuditQuery{Client: q.ClientID, Before: q.Before, Limit: min(max(q.Limit, 1), 1000)})
	if err != nil {
		return nil, translate(err)
	}
	out := make([]console.AuditEntry, 0, len(es))
	for _, e := range es {
		entry := console.AuditEntry{
			Seq: e.Seq, At: e.Time, Actor: e.Actor, ClientID: e.Client,
			From: e.From, To: e.To, Reason: e.Reason, Forced: e.Forced, FailedGates: e.FailedGates,
		}
		if e.Scope != flags.ScopeClient {
			entry.Scope = e.Scope
		}
		out = append(out, entry)
	}
	return out, nil
}

// translate maps the flag package's errors onto the console's, keeping the
// original for its message.
func translate(err error) error {
	var gate *flags.GateRefusedError
	switch {
	case errors.As(err, &gate):
		// The flag store's refusal is the console's (one gate error).
		return gate
	case errors.Is(err, flags.ErrInvalid):
		return fmt.Errorf("%w: %w", console.ErrInvalidChange, err)
	case errors.Is(err, flags.ErrConflict):
		return fmt.Errorf("%w: %w", console.ErrConflict, err)
	case errors.Is(err, flags.ErrNotFound):
		return fmt.Errorf("%w: %w", console.ErrClientNotFound, err)
	case errors.Is(err, flags.ErrAudit):
		return fmt.Errorf("%w: %w", console.ErrAuditIncomplete, err)
	case errors.Is(err, flags.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", console.ErrUnavailable, err)
	}
	return err
}
