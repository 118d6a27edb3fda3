package stores

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound: the key has neither a row nor a tombstone.
	ErrNotFound = errors.New("record not found")
	// ErrNoEntity: the entity has no table in the store.
	ErrNoEntity = errors.New("entity has no table")
	// ErrSchemaMismatch: an existing table does not have the shape Switchyard
	// needs; the store refuses to touch it rather than guess.
	ErrSchemaMismatch = errors.New("table has the wrong shape")
	// ErrRejected matches every *RejectError.
	ErrRejected = errors.New("write rejected by the store")
	// ErrTransient matches errors after which waiting and retrying may help:
	// a refused or dropped connection, a deadlock, a failover.
	ErrTransient = errors.New("transient store error")
	// ErrUnknownScheme: no adapter is registered for a DSN's scheme.
	ErrUnknownScheme = errors.New("unknown store scheme")
)

// RejectError says that one write of an Apply call can never be stored, and
// why. Nothing of the call was written.
type RejectError struct {
	// Index is the position of the write in the Apply call.
	Index int
	// Key and Entity identify the write for messages and dead letters.
	Entity, Key string
	// Reason says what the store cannot hold.
	Reason string
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("write %d (%s/%s) rejected: %s", e.Index, e.Entity, e.Key, e.Reason)
}

// Is makes errors.Is(err, ErrRejected) true.
func (e *RejectError) Is(target error) bool { return target == ErrRejected }

// Reject builds the *RejectError for writes[i].
func Reject(i int, w Write, format string, args ...any) *RejectError {
	return &RejectError{Index: i, Entity: w.Entity, Key: w.Key, Reason: fmt.Sprintf(format, args...)}
}

// transientError marks an error as transient while keeping its chain.
type transientError struct{ err error }

func (e transientError) Error() string        { return e.err.Error() }
func (e transientError) Unwrap() error        { return e.err }
func (e transientError) Is(target error) bool { return target == ErrTransient }

// Transient marks err as transient. Adapters call it on errors their driver
// classifies as connection loss, deadlock or failover.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return transientError{err}
}

// IsTransient reports whether err is marked transient.
func IsTransient(err error) bool { return errors.Is(err, ErrTransient) }
