package console

import (
	"context"
	"time"
)

// StatusSource reports the migration's status, normally the migrator's.
type StatusSource interface {
	// MigrationStatus returns the current status; errors are shown as
	// "unavailable" with their message.
	MigrationStatus(ctx context.Context) (MigrationStatus, error)
}

// MigrationStatus is what the migration page shows.
type MigrationStatus struct {
	// Phase is the migration phase, e.g. subscribed, backfilling,
	// verifying, switching, cleaned up.
	Phase         string               `json:"phase"`
	Subscriptions []SubscriptionStatus `json:"subscriptions"`
	Backfill      []BackfillProgress   `json:"backfill"`
	// LastVerify is nil when no verify ran yet.
	LastVerify *VerifyResult `json:"last_verify,omitempty"`
	// StageCounts counts clients per read stage, when known.
	StageCounts map[Stage]int `json:"stage_counts,omitempty"`
	CollectedAt time.Time     `json:"collected_at"`
	// Problems lists the parts that could not be read.
	Problems []string `json:"problems,omitempty"`
}

// SubscriptionStatus is one subscription (durable consumer).
type SubscriptionStatus struct {
	Name         string `json:"name"`
	Lag          uint64 `json:"lag"`
	Redeliveries uint64 `json:"redeliveries"`
	DeadLetters  uint64 `json:"dead_letters"`
}

// BackfillProgress is the backfill of one entity.
type BackfillProgress struct {
	Entity   string `json:"entity"`
	Copied   int64  `json:"copied"`
	Total    int64  `json:"total"` // 0 when unknown
	Complete bool   `json:"complete"`
}

// Percent returns the progress in percent (0–100), or -1 when the total is
// unknown and the backfill is not complete.
func (b BackfillProgress) Percent() int {
	switch {
	case b.Complete:
		return 100
	case b.Total <= 0:
		return -1
	}
	return int(min(100, b.Copied*100/b.Total))
}

// VerifyResult is the outcome of the last verify.
type VerifyResult struct {
	At       time.Time `json:"at"`
	Clean    bool      `json:"clean"`
	Findings int       `json:"findings"`
	Summary  string    `json:"summary,omitempty"`
}
