package console_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/console"
)

// memFlags is an in-memory console.Flags for the HTTP tests: clients with
// overrides, gates that can be closed, and an audit log.
type memFlags struct {
	mu      sync.Mutex
	stages  map[string]console.Stage
	revs    map[string]uint64
	rev     uint64
	gatesOK bool
	audit   []console.AuditEntry
	// reset holds the clients whose shadow counters were cleared.
	reset map[string]bool
	// unaudited are stage revisions to report as made outside Switchyard.
	unaudited map[string][]console.UnauditedChange
}

func newMemFlags(clients ...string) *memFlags {
	f := &memFlags{stages: map[string]console.Stage{}, revs: map[string]uint64{}, gatesOK: true, reset: map[string]bool{}}
	for _, c := range clients {
		f.stages[c] = console.StageLegacy
	}
	return f
}

func (f *memFlags) closeGates() {
	f.mu.Lock()
	f.gatesOK = false
	f.mu.Unlock()
}

func (f *memFlags) stage(id string) console.Stage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stages[id]
}

func (f *memFlags) auditLen() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.audit)
}

func (f *memFlags) Search(_ context.Context, q string, p console.PageRequest) (console.ClientPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id := range f.stages {
		if id > p.After && strings.Contains(strings.ToLower(id), strings.ToLower(q)) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out console.ClientPage
	for i, id := range ids {
		if i == p.Size {
			out.More = true
			break
		}
		out.Clients = append(out.Clients, console.ClientSummary{ID: id, Stage: f.stages[id], Source: console.SourceOverride})
	}
	return out, nil
}

func (f *memFlags) gates() console.GateStatus {
	return console.GateStatus{Passed: f.gatesOK, Conditions: []console.GateCondition{
		{Name: "backfill-complete", OK: true, Detail: "all entities copied"},
		{Name: "verify-clean", OK: f.gatesOK, Detail: "2 mismatching keys in orders"},
	}}
}

func (f *memFlags) Client(_ context.Context, id string) (console.ClientDetail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.stages[id]
	if !ok {
		return console.ClientDetail{}, fmt.Errorf("%w: %q", console.ErrClientNotFound, id)
	}
	shadow := console.ShadowStats{Compared: 120, Matches: 118, Mismatches: 2, Settled: 7, Unsettled: 3, SampleKeys: []string{"orders/o-17", "orders/o-42"}, UpdatedAt: time.Now()}
	if f.reset[id] {
		shadow = console.ShadowStats{}
	}
	return console.ClientDetail{ID: id, Stage: st, Source: console.SourceOverride, Revision: f.revs[id], Gates: f.gates(), Shadow: shadow,
		Unaudited: f.unaudited[id]}, nil
}

// ResetShadow zeroes the client's shadow counters and records the reset.
func (f *memFlags) ResetShadow(ctx context.Context, r console.ShadowReset) (console.ClientDetail, error) {
	f.mu.Lock()
	if _, ok := f.stages[r.ClientID]; !ok {
		f.mu.Unlock()
		return console.ClientDetail{}, console.ErrClientNotFound
	}
	f.reset[r.ClientID] = true
	f.audit = append(f.audit, console.AuditEntry{Seq: uint64(len(f.audit) + 1), At: time.Now(), Actor: r.Actor, ClientID: r.ClientID,
		From: "120 compared, 2 mismatched", To: "0 compared", Reason: r.Reason, Scope: "shadow-reset"})
	f.mu.Unlock()
	return f.Client(ctx, r.ClientID)
}

func (f *memFlags) SetStage(ctx context.Context, ch console.StageChange) (console.ClientDetail, error) {
	f.mu.Lock()
	from, ok := f.stages[ch.ClientID]
	switch {
	case !ok:
		f.mu.Unlock()
		return console.ClientDetail{}, console.ErrClientNotFound
	case ch.ExpectedStage != "" && ch.ExpectedStage != from,
		ch.ExpectedRevision != nil && *ch.ExpectedRevision != f.revs[ch.ClientID]:
		f.mu.Unlock()
		return console.ClientDetail{}, console.ErrConflict
	case ch.To.ServesTarget() && !from.ServesTarget() && !f.gatesOK && !ch.Force:
		failed := []console.GateCondition{f.gates().Conditions[1]}
		f.mu.Unlock()
		return console.ClientDetail{}, &console.GateRefusal{Conditions: failed}
	}
	f.rev++
	f.stages[ch.ClientID], f.revs[ch.ClientID] = ch.To, f.rev
	f.audit = append(f.audit, console.AuditEntry{Seq: uint64(len(f.audit) + 1), At: time.Now(), Actor: ch.Actor, ClientID: ch.ClientID,
		From: string(from), To: string(ch.To), Reason: ch.Reason, Forced: ch.Force && !f.gatesOK})
	f.mu.Unlock()
	return f.Client(ctx, ch.ClientID)
}

// ClearOverride returns the client to the default stage, legacy.
func (f *memFlags) ClearOverride(ctx context.Context, ch console.OverrideClear) (console.ClientDetail, error) {
	f.mu.Lock()
	from, ok := f.stages[ch.ClientID]
	if !ok {
		f.mu.Unlock()
		return console.ClientDetail{}, console.ErrClientNotFound
	}
	if ch.ExpectedRevision != nil && *ch.ExpectedRevision != f.revs[ch.ClientID] {
		f.mu.Unlock()
		return console.ClientDetail{}, console.ErrConflict
	}
	f.rev++
	f.stages[ch.ClientID], f.revs[ch.ClientID] = console.StageLegacy, f.rev
	f.audit = append(f.audit, console.AuditEntry{Seq: uint64(len(f.audit) + 1), At: time.Now(), Actor: ch.Actor, ClientID: ch.ClientID,
		From: string(from), To: string(console.StageLegacy), Reason: ch.Reason})
	f.mu.Unlock()
	return f.Client(ctx, ch.ClientID)
}

func (f *memFlags) Audit(_ context.Context, q console.AuditQuery) ([]console.AuditEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []console.AuditEntry
	for i := len(f.audit) - 1; i >= 0 && len(out) < q.Limit; i-- {
		e := f.audit[i]
		if (q.ClientID == "" || e.ClientID == q.ClientID) && (q.Before == 0 || e.Seq < q.Before) {
			out = append(out, e)
		}
	}
	return out, nil
}
