package console

import (
	"context"
	"time"

	"github.com/switchyard/switchyard/internal/gate"
)

// Flags is what the console needs from the per-client read flags. Package
// console/flagsadapter implements it over package flags; tests and other
// flag systems may bring their own.
type Flags interface {
	// Search lists known clients whose id contains query (ignoring case;
	// empty lists every known client), sorted by id, one page at a time.
	Search(ctx context.Context, query string, page PageRequest) (ClientPage, error)
	// Client returns one client's stage, why it has it, shadow statistics
	// and gate status. A client the store never saw is reported with the
	// stage the default or rollout gives it.
	Client(ctx context.Context, id string) (ClientDetail, error)
	// SetStage applies change and appends it to the audit stream. It fails
	// with ErrConflict when the client's stage or revision differ from the
	// expected ones, with ErrGateRefused (a *GateRefusal) when gates block a
	// promotion that is not forced, with ErrInvalidChange for input the
	// store refuses, and with ErrAuditIncomplete when the change was
	// applied but could not be recorded.
	SetStage(ctx context.Context, change StageChange) (ClientDetail, error)
	// ClearOverride removes the client's own stage so that it follows the
	// rollout or the default again, and appends the change to the audit
	// stream. Gates apply when that moves the client onto the target store.
	// It fails with ErrInvalidChange when the client has no override, and
	// otherwise like SetStage.
	ClearOverride(ctx context.Context, change OverrideClear) (ClientDetail, error)
	// ResetShadow forgets the client's shadow read counters in every read
	// router, so the shadow gate counts from zero again (after its
	// mismatches were repaired), and appends the reset to the audit
	// stream. It fails with ErrInvalidChange for input the store refuses,
	// ErrAuditIncomplete when the counters were reset but the reset could
	// not be recorded, and ErrUnavailable when no statistics are kept.
	ResetShadow(ctx context.Context, reset ShadowReset) (ClientDetail, error)
	// Audit returns recorded changes, newest first, as selected by q.
	Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
}

// ShadowReset is a request to clear a client's shadow read counters.
type ShadowReset struct {
	ClientID string
	Reason   string
	Actor    string
}

// Stage is a client's read stage: the control plane's one stage enum
// (gate.Stage, also flags.Stage), with Valid, Description and ServesTarget.
type Stage = gate.Stage

// The read stages, in promotion order.
const (
	StageLegacy       = gate.StageLegacy
	StageShadow       = gate.StageShadow
	StageTarget       = gate.StageTarget
	StageTargetShadow = gate.StageTargetShadow
)

// Stages lists every stage in promotion order.
var Stages = gate.Stages()

// StageSource says why a client has its stage.
type StageSource string

// Stage sources.
const (
	SourceOverride StageSource = "override" // a per-client setting
	SourceRollout  StageSource = "rollout"  // a percentage rollout picked the client
	SourceDefault  StageSource = "default"  // the default stage
)

// PageRequest selects one page of a listing: the clients sorted after
// After (empty for the first page), at most Size of them.
type PageRequest struct {
	After string
	Size  int
}

// ClientPage is one page of search results.
type ClientPage struct {
	Clients []ClientSummary
	// More is true when clients follow the last one of this page.
	More bool
}

// ClientSummary is one row of the search results.
type ClientSummary struct {
	ID     string
	Stage  Stage
	Source StageSource
}

// ClientDetail is everything the console shows about one client.
type ClientDetail struct {
	ID     string
	Stage  Stage
	Source StageSource
	// SourceDetail explains the source, e.g. "rollout to target at 25%".
	SourceDetail string
	// Revision is the flag store revision of the client's override (0 when
	// the client has none); passed back in StageChange.ExpectedRevision.
	Revision uint64
	// Override describes the per-client setting; nil without one.
	Override *OverrideInfo
	// Fallback is the stage the client would have without its override,
	// and FallbackSource where that stage comes from (rollout or default).
	Fallback       Stage
	FallbackSource StageSource
	// LastSeen is when a read router last served the client; zero if
	// unknown.
	LastSeen time.Time
	Shadow   ShadowStats
	Gates    GateStatus
	// Unaudited are revisions of the client's stage that no audit entry
	// accounts for: written past Switchyard, or whose audit failed.
	// UnauditedUnavailable says why they could not be checked.
	Unaudited            []UnauditedChange
	UnauditedUnavailable string
}

// UnauditedChange is a stage revision without an audit entry.
type UnauditedChange struct {
	Revision uint64
	At       time.Time
	// Operation is "put", "delete" or "purge"; Stage is what a put wrote.
	Operation string
	Stage     Stage
}

// OverrideInfo is who set a client's override, when and why.
type OverrideInfo struct {
	Actor  string
	At     time.Time
	Reason string
	Forced bool
}

// ShadowStats are the per-client read counters.
type ShadowStats struct {
	// Compared is the number of shadow reads compared: Matches +
	// Mismatches + Errors.
	Compared   uint64
	Matches    uint64
	Mismatches uint64
	// Errors counts shadow reads whose secondary failed or ran too long.
	Errors uint64
	// Settled counts matches that differed at first, while an event was in
	// flight, and agreed when read again; Unsettled counts reads whose keys
	// kept changing, which count neither way for the gate.
	Settled   uint64
	Unsettled uint64
	// TargetReads and TargetErrors count reads the target store answered
	// and how many failed.
	TargetReads  uint64
	TargetErrors uint64
	// SampleKeys are some keys whose reads mismatched, newest first; empty
	// when the flag store does not keep samples.
	SampleKeys []string
	// Unavailable says why the statistics could not be read, if so.
	Unavailable string
	// UpdatedAt is when the statistics last changed; zero if never.
	UpdatedAt time.Time
}

// GateStatus is the state of the promotion gates for one client.
type GateStatus struct {
	// Passed is true when every condition passes.
	Passed     bool
	Conditions []GateCondition
	// Unavailable says why the gates could not be evaluated, if so.
	Unavailable string
}

// GateCondition is one promotion gate condition: the one condition type,
// gate.Condition (OK says whether it passes).
type GateCondition = gate.Condition

// StageChange is a request to set a client's stage.
type StageChange struct {
	ClientID string
	To       Stage
	// ExpectedStage, when set, must equal the client's current stage.
	ExpectedStage Stage
	// ExpectedRevision, when set, must equal the current revision of the
	// client's override (0: the client has no override).
	ExpectedRevision *uint64
	Reason           string
	// Actor is the console user making the change.
	Actor string
	// Force overrides failing promotion gates; the reason is recorded.
	Force bool
}

// OverrideClear is a request to remove a client's own stage.
type OverrideClear struct {
	ClientID string
	// ExpectedRevision, when set, must equal the current revision of the
	// client's override.
	ExpectedRevision *uint64
	Reason           string
	Actor            string
	// Force overrides failing promotion gates; the reason is recorded.
	Force bool
}

// AuditQuery selects audit entries.
type AuditQuery struct {
	// ClientID, when set, keeps only that client's entries.
	ClientID string
	// Before, when non-zero, keeps entries older than the one with this
	// sequence (AuditEntry.Seq), for paging backwards.
	Before uint64
	// Limit caps the entries returned.
	Limit int
}

// AuditEntry is one recorded change.
type AuditEntry struct {
	// Seq orders entries; older entries have smaller numbers.
	Seq      uint64
	At       time.Time
	Actor    string
	ClientID string
	// From and To are stages for client changes; for rollouts they read
	// like "target 25%".
	From   string
	To     string
	Reason string
	Forced bool
	// FailedGates names the conditions a forced change overrode.
	FailedGates []string
	// Scope is what changed when it is not a single client, e.g.
	// "default" or "rollout"; empty for client overrides.
	Scope string
}
