package migrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/gate"
	"github.com/switchyard/switchyard/subscriptions"
)

// DefaultMaxVerifyAge is how old the last verify may be for cleanup.
const DefaultMaxVerifyAge = 24 * time.Hour

// CleanupConfig configures the readiness gate and the removal of the legacy
// subscription.
type CleanupConfig struct {
	JS    jetstream.JetStream
	State *State
	// Stream and LegacyConsumer name the subscription to remove.
	Stream, LegacyConsumer string
	// TargetConsumer is the subscription that keeps the target current;
	// "" takes the one the backfill recorded.
	TargetConsumer string
	// MaxLag is the highest target subscription lag that passes (default 0:
	// none; the target must be caught up).
	MaxLag uint64
	// MaxVerifyAge is how old the last verify may be (default 24 h).
	MaxVerifyAge time.Duration
	// ReadStages, when set, must report no client in a stage that reads the
	// legacy store (gate.Stage.ReadsLegacy).
	ReadStages ReadStages
	// Force removes the subscription although a condition fails; Reason is
	// then required and recorded, with Operator.
	Force            bool
	Reason, Operator string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c *CleanupConfig) defaults() error {
	var problems []string
	if c.JS == nil || c.State == nil {
		problems = append(problems, "a JetStream connection and a state bucket are required")
	}
	if c.Stream == "" || c.LegacyConsumer == "" {
		problems = append(problems, "the stream and the legacy consumer are required")
	}
	if c.Force && strings.TrimSpace(c.Reason) == "" {
		problems = append(problems, "forcing cleanup requires a reason")
	}
	if c.MaxVerifyAge < 0 {
		problems = append(problems, "the maximum verify age must not be negative")
	}
	if len(problems) > 0 {
		return fmt.Errorf("cleanup: %s", strings.Join(problems, "; "))
	}
	if c.MaxVerifyAge == 0 {
		c.MaxVerifyAge = DefaultMaxVerifyAge
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// GateError is returned when the readiness gate fails; it matches
// ErrGateFailed and carries every condition, passing or not, with an empty
// Stage (gate.Error).
type GateError = gate.Error

// CheckReadiness evaluates every cleanup condition and returns them all,
// passing or not, in a fixed order:
//
//   - the legacy subscription exists;
//   - the backfill is complete;
//   - the last whole verify is complete and clean;
//   - it covers every backfilled entity and started after the backfill ended;
//   - it is at most MaxVerifyAge old;
//   - the target subscription's lag is at most MaxLag;
//   - the target subscription has no dead letters (each is an event the
//     target never applied);
//   - no client reads the legacy store (when flags are in use).
//
// Only a failure to read the state is an error.
func CheckReadiness(ctx context.Context, cfg CleanupConfig) ([]Condition, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	now := cfg.Now()
	var out []Condition
	add := func(name string, ok bool, format string, args ...any) {
		out = append(out, Condition{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}

	legacy, err := subscriptions.Inspect(ctx, cfg.JS, cfg.Stream, cfg.LegacyConsumer)
	switch {
	case errors.Is(err, subscriptions.ErrNotFound):
		add("legacy subscription exists", false, "consumer %s on %s not found", cfg.LegacyConsumer, cfg.Stream)
	case err != nil:
		return nil, err
	default:
		add("legacy subscription exists", true, "consumer %s on %s, lag %d", legacy.Consumer, legacy.Stream, legacy.Lag)
	}

	run, found, err := cfg.State.BackfillRun(ctx)
	if err != nil {
		return nil, err
	}
	complete, why, err := cfg.State.BackfillComplete(ctx)
	if err != nil {
		return nil, err
	}
	add("backfill complete", complete, "%s", why)

	res, verified, err := cfg.State.LastVerify(ctx, "")
	if err != nil {
		return nil, err
	}
	switch {
	case !verified:
		add("last verify clean", false, "no whole verify has run")
		add("verify covers the backfill", false, "no whole verify has run")
		add("last verify recent", false, "no whole verify has run")
	default:
		add("last verify clean", res.Clean, "%d differences %s in %d source rows (finished %s)",
			res.Differences, kindsLine(res.ByKind), res.RowsSource, res.FinishedAt.Format(time.RFC3339))
		switch {
		case !found:
			add("verify covers the backfill", false, "no backfill recorded")
		case !containsAll(res.Entities, run.Entities):
			add("verify covers the backfill", false, "verified %s, backfilled %s", strings.Join(res.Entities, ","), strings.Join(run.Entities, ","))
		case run.FinishedAt == nil || res.StartedAt.Before(*run.FinishedAt):
			add("verify covers the backfill", false, "the verify started before the backfill finished; verify again")
		default:
			add("verify covers the backfill", true, "verified %s after backfill %s", strings.Join(res.Entities, ","), run.ID)
		}
		age := res.Age(now)
		add("last verify recent", age <= cfg.MaxVerifyAge, "%s old (limit %s)", age.Round(time.Second), cfg.MaxVerifyAge)
	}

	targetName := cfg.TargetConsumer
	if targetName == "" {
		targetName = run.TargetConsumer
	}
	if targetName == "" {
		add("target subscription caught up", false, "no target consumer named and no backfill recorded one")
	} else if target, err := subscriptions.Inspect(ctx, cfg.JS, cfg.Stream, targetName); errors.Is(err, subscriptions.ErrNotFound) {
		add("target subscription caught up", false, "consumer %s on %s not found", targetName, cfg.Stream)
	} else if err != nil {
		return nil, err
	} else {
		add("target subscription caught up", target.Lag <= cfg.MaxLag, "%s lag %d (limit %d)", targetName, target.Lag, cfg.MaxLag)
		add("target subscription has no dead letters", target.DeadLetters == 0, "%d dead letters on %s", target.DeadLetters, subscriptions.DLQSubject(cfg.Stream, targetName))
	}

	if cfg.ReadStages == nil {
		add("no client reads the legacy store", true, "flags not in use")
	} else {
		counts, err := cfg.ReadStages.CountByStage(ctx)
		if err != nil {
			add("no client reads the legacy store", false, "cannot read the flags: %v", err)
		} else {
			var reading []string
			for _, stage := range gate.Stages() {
				if n := counts[string(stage)]; n > 0 && stage.ReadsLegacy() {
					reading = append(reading, fmt.Sprintf("%d %s", n, stage))
				}
			}
			if ds, ok := cfg.ReadStages.(DefaultStages); ok {
				stages, err := ds.StagesWithoutOverride(ctx)
				if err != nil {
					reading = append(reading, fmt.Sprintf("cannot read the default stage: %v", err))
				}
				for _, st := range stages {
					if gate.Stage(st).ReadsLegacy() {
						reading = append(reading, fmt.Sprintf("clients without an override are in stage %s", st))
					}
				}
			}
			if len(reading) > 0 {
				add("no client reads the legacy store", false, "%s", strings.Join(reading, ", "))
			} else {
				add("no client reads the legacy store", true, "%d clients on target", counts[string(gate.StageTarget)])
			}
		}
	}
	return out, nil
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// Cleanup removes the legacy subscription when every readiness condition
// holds, records how (CleanupRecord) and advances the phase to cleaned-up.
// When a condition fails it returns a *GateError (matching ErrGateFailed)
// and removes nothing, unless Force is set: then the reason is recorded
// with the failing conditions. The conditions are returned either way.
func Cleanup(ctx context.Context, cfg CleanupConfig) (CleanupRecord, error) {
	if err := cfg.defaults(); err != nil {
		return CleanupRecord{}, err
	}
	conds, err := CheckReadiness(ctx, cfg)
	if err != nil {
		return CleanupRecord{}, err
	}
	rec := CleanupRecord{Stream: cfg.Stream, Consumer: cfg.LegacyConsumer, Conditions: conds, Operator: cfg.Operator}
	passed := true
	for _, c := range conds {
		passed = passed && c.OK
	}
	if !passed && !cfg.Force {
		return rec, &GateError{Conditions: conds}
	}
	if !passed {
		rec.Forced, rec.Reason = true, cfg.Reason
	} else {
		rec.Reason = cfg.Reason
	}
	if err := subscriptions.DeleteConsumer(ctx, cfg.JS, cfg.Stream, cfg.LegacyConsumer); err != nil && !errors.Is(err, subscriptions.ErrNotFound) {
		return rec, err
	}
	rec.At = cfg.Now().UTC()
	if err := cfg.State.saveCleanup(ctx, rec); err != nil {
		return rec, err
	}
	if err := cfg.State.Advance(ctx, PhaseCleanedUp); err != nil {
		return rec, err
	}
	return rec, nil
}

// CleanupRecord says when and how the legacy subscription was removed.
type CleanupRecord struct {
	Stream     string      `json:"stream"`
	Consumer   string      `json:"consumer"`
	At         time.Time   `json:"at"`
	Forced     bool        `json:"forced"`
	Reason     string      `json:"reason,omitempty"`
	Operator   string      `json:"operator,omitempty"`
	Conditions []Condition `json:"conditions"`
}

// recordedCondition is how a cleanup record stores and prints a condition:
// what was found under "state", always present.
type recordedCondition struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	State string `json:"state"`
}

// cleanupRecordJSON is a CleanupRecord with its conditions as recorded.
type cleanupRecordJSON struct {
	cleanupRecordFields
	Conditions []recordedCondition `json:"conditions"`
}

type cleanupRecordFields CleanupRecord

// MarshalJSON writes each condition's detail as "state".
func (r CleanupRecord) MarshalJSON() ([]byte, error) {
	out := cleanupRecordJSON{cleanupRecordFields: cleanupRecordFields(r), Conditions: make([]recordedCondition, len(r.Conditions))}
	for i, c := range r.Conditions {
		out.Conditions[i] = recordedCondition{Name: c.Name, OK: c.OK, State: c.Detail}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (r *CleanupRecord) UnmarshalJSON(data []byte) error {
	var in cleanupRecordJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*r = CleanupRecord(in.cleanupRecordFields)
	r.Conditions = nil
	for _, c := range in.Conditions {
		r.Conditions = append(r.Conditions, Condition{Name: c.Name, OK: c.OK, Detail: c.State})
	}
	return nil
}

// Cleanup returns the cleanup record; found is false before cleanup.
func (s *State) Cleanup(ctx context.Context) (CleanupRecord, bool, error) {
	r, _, found, err := getJSON[CleanupRecord](ctx, s.kv, keyCleanup)
	return r, found, err
}

func (s *State) saveCleanup(ctx context.Context, r CleanupRecord) error {
	return putJSON(ctx, s.kv, keyCleanup, r)
}
