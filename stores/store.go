package stores

import (
	"context"
	"encoding/json"
	"time"
)

// Write is one change to apply: the full state of a record (an upsert) or
// its deletion (a tombstone).
type Write struct {
	// Entity names the table; it must satisfy events.ValidEntity.
	Entity string
	// Key identifies the record within the entity.
	Key string
	// Client is the tenant that owns the record.
	Client string
	// Version fences the write: it applies only above the stored version.
	Version int64
	// Deleted makes the write a tombstone. Data is ignored then.
	Deleted bool
	// Data is the record's JSON object. Required unless Deleted.
	Data json.RawMessage
	// EventID, when set, is recorded in the store's ledger in the same
	// transaction; a later write with the same EventID is dropped as a
	// duplicate. Backfill writes leave it empty.
	EventID string
	// IfAbsent makes the write insert-only: it applies only where the key has
	// no row and no tombstone (the backfill's rule).
	IfAbsent bool
}

// Record is a stored row.
type Record struct {
	Key       string
	Client    string
	Version   int64
	Deleted   bool
	Data      json.RawMessage // nil for a tombstone
	UpdatedAt time.Time
}

// ApplyResult counts what one Apply did with its writes.
type ApplyResult struct {
	// Applied writes changed a row (inserted, updated or tombstoned it).
	Applied int `json:"applied"`
	// Skipped writes lost to the fence: a stored version that is at least as
	// high, a higher version of the same key in the call, or (IfAbsent) a row
	// or tombstone that already exists.
	Skipped int `json:"skipped"`
	// Duplicates were dropped because their EventID was in the ledger.
	Duplicates int `json:"duplicates"`
}

// Add accumulates other into r.
func (r *ApplyResult) Add(other ApplyResult) {
	r.Applied += other.Applied
	r.Skipped += other.Skipped
	r.Duplicates += other.Duplicates
}

// Range selects rows of one entity in key order for scans and checksums.
// Keys compare as byte strings (UTF-8 code point order) in every store.
type Range struct {
	// After is the exclusive lower bound; "" starts at the first key.
	After string
	// Through is the inclusive upper bound; "" means no upper bound.
	Through string
	// Limit caps the rows returned (Scan) or summed (Checksum); 0 means none.
	// For Checksum, Limit counts live rows.
	Limit int
	// Client, when set, restricts the range to one client's rows.
	Client string
}

// Contains reports whether key lies inside the range bounds (ignoring Limit
// and Client).
func (r Range) Contains(key string) bool {
	return key > r.After && (r.Through == "" || key <= r.Through)
}

// Checksum summarizes the live rows (tombstones excluded) of a range so two
// stores can be compared without moving the rows. Equal content gives equal
// checksums in every store; versions and timestamps are not part of it.
type Checksum struct {
	// Count is the number of live rows summed.
	Count int64 `json:"count"`
	// Digest is an order-independent digest of the rows' key, client and
	// canonical document.
	Digest string `json:"digest"`
	// LastKey is the highest key summed, "" when Count is zero. With a Limit,
	// the next chunk starts after it.
	LastKey string `json:"last_key,omitempty"`
}

// Equal reports whether two checksums describe the same content.
func (c Checksum) Equal(o Checksum) bool { return c.Count == o.Count && c.Digest == o.Digest }

// Writer applies writes. It is what the subscription workers need.
type Writer interface {
	// Apply applies writes atomically, in one transaction, with the semantics
	// of the package doc: a version fence, tombstones, IfAbsent inserts and
	// the EventID ledger. Writes may name several entities; tables are created
	// on demand. It sends a bounded number of statements per entity, never
	// one per write.
	//
	// A write the store can never hold fails the whole call with a
	// *RejectError naming its index, before anything is written, so the
	// caller can set it aside and apply the rest. Any other error leaves the
	// store unchanged and may be retried; IsTransient tells whether waiting
	// may help (a refused connection, a deadlock) or not.
	Apply(ctx context.Context, writes []Write) (ApplyResult, error)
}

// Reader reads rows. It is what the read router and the verifier need.
type Reader interface {
	// Get returns the row of key, tombstone included. It returns an error
	// matching ErrNotFound when the key has neither row nor tombstone, and an
	// error matching ErrNoEntity when the entity has no table.
	Get(ctx context.Context, entity, key string) (Record, error)
	// Scan returns the rows of a range in ascending key order, tombstones
	// included (Record.Deleted). An entity without a table scans empty.
	Scan(ctx context.Context, entity string, r Range) ([]Record, error)
	// Checksum summarizes the live rows of a range. An entity without a table
	// sums to the zero Checksum.
	Checksum(ctx context.Context, entity string, r Range) (Checksum, error)
	// Entities lists the entities the store holds, sorted.
	Entities(ctx context.Context) ([]string, error)
}

// Store is the full contract every adapter implements.
type Store interface {
	Writer
	Reader
	// Ping checks that the store is reachable, for readiness probes.
	Ping(ctx context.Context) error
	// PruneLedger forgets EventIDs recorded before cutoff and returns how many
	// it removed. The retention must outlast any producer retry.
	PruneLedger(ctx context.Context, cutoff time.Time) (int64, error)
	// Close releases connections. The store must not be used after.
	Close() error
}
