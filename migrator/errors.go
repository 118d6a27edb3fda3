package migrator

import (
	"errors"

	"github.com/switchyard/switchyard/internal/gate"
)

var (
	// ErrPhaseBackward: Advance was asked to move the phase backward.
	ErrPhaseBackward = errors.New("the migration phase only moves forward")
	// ErrNoTargetSubscription: the target consumer does not exist, so a
	// backfill would copy rows the live stream can never correct.
	ErrNoTargetSubscription = errors.New("target subscription does not exist")
	// ErrNoStartSeq: the target consumer has no recorded start sequence, so
	// the watermark cannot be known.
	ErrNoStartSeq = errors.New("target subscription has no recorded start sequence")
	// ErrRunMismatch: a backfill run with different settings is in progress;
	// join it with the same settings or start over with --restart.
	ErrRunMismatch = errors.New("a different backfill run is in progress")
	// ErrGateFailed: a readiness condition of cleanup does not hold. It
	// matches every *GateError (gate.ErrFailed, which the flag store's
	// promotion gates share).
	ErrGateFailed = gate.ErrFailed
	// ErrConflict: a key-value update lost a race too many times in a row.
	ErrConflict = errors.New("concurrent update of migration state")
	// ErrBadFindings: a findings file could not be read.
	ErrBadFindings = errors.New("malformed findings file")
)
