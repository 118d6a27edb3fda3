package migrator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultBucket is the key-value bucket that holds the migration state.
const DefaultBucket = "switchyard_migration"

// Keys of the state bucket. Entity names are valid key tokens; client ids
// are arbitrary text and are base64url-encoded.
const (
	keyPhase           = "phase"
	keyBackfillRun     = "backfill.run"
	keyBackfillControl = "backfill.control"
	prefixEntity       = "backfill.entity."
	keyVerifyWhole     = "verify.result"
	prefixVerifyClient = "verify.client."
	prefixVerifyCkpt   = "verify.checkpoint."
	keyCleanup         = "cleanup"
)

// casAttempts bounds the retries of one compare-and-set update. Each retry
// re-reads the value, so losing this many races in a row means something
// is rewriting the key in a loop.
const casAttempts = 64

// State is the migration state in a NATS key-value bucket. It is safe for
// concurrent use by many goroutines and processes: every read-modify-write
// is a compare-and-set on the key's revision.
type State struct {
	kv     jetstream.KeyValue
	bucket string
	now    func() time.Time
}

// OpenState opens the state bucket, creating it (file storage, history 16)
// when it does not exist. An empty bucket name means DefaultBucket. It fails
// when NATS is unreachable or JetStream is not enabled.
func OpenState(ctx context.Context, js jetstream.JetStream, bucket string) (*State, error) {
	if bucket == "" {
		bucket = DefaultBucket
	}
	kv, err := js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      bucket,
			Description: "Switchyard migration state: phase, backfill checkpoints, verify results, cleanup",
			History:     16,
			Storage:     jetstream.FileStorage,
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("migration state bucket %s: %w", bucket, err)
	}
	return &State{kv: kv, bucket: bucket, now: func() time.Time { return time.Now().UTC() }}, nil
}

// Bucket is the name of the state bucket.
func (s *State) Bucket() string { return s.bucket }

// getJSON reads key into a T. found is false (and the error nil) when the
// key does not exist or was deleted.
func getJSON[T any](ctx context.Context, kv jetstream.KeyValue, key string) (v T, rev uint64, found bool, err error) {
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return v, 0, false, nil
	}
	if err != nil {
		return v, 0, false, fmt.Errorf("read %s: %w", key, err)
	}
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return v, 0, false, fmt.Errorf("read %s: malformed value: %w", key, err)
	}
	return v, e.Revision(), true, nil
}

// errNoChange lets an update function leave the stored value as it is.
var errNoChange = errors.New("no change")

// updateJSON applies fn to the current value of key (the zero T and
// found=false when absent) and stores the result with a compare-and-set,
// retrying on a lost race. fn may return errNoChange to write nothing; any
// other error aborts the update and is returned.
func updateJSON[T any](ctx context.Context, kv jetstream.KeyValue, key string, fn func(v *T, found bool) error) (T, error) {
	for range casAttempts {
		v, rev, found, err := getJSON[T](ctx, kv, key)
		if err != nil {
			return v, err
		}
		if err := fn(&v, found); errors.Is(err, errNoChange) {
			return v, nil
		} else if err != nil {
			return v, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return v, fmt.Errorf("encode %s: %w", key, err)
		}
		if found {
			_, err = kv.Update(ctx, key, b, rev)
		} else {
			_, err = kv.Create(ctx, key, b)
		}
		if err == nil {
			return v, nil
		}
		if errors.Is(err, jetstream.ErrKeyExists) || isWrongSequence(err) {
			continue // lost a race: read again
		}
		return v, fmt.Errorf("write %s: %w", key, err)
	}
	var zero T
	return zero, fmt.Errorf("write %s: %w", key, ErrConflict)
}

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

func putJSON(ctx context.Context, kv jetstream.KeyValue, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if _, err := kv.Put(ctx, key, b); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// ---- phase ----

// PhaseChange is one step of the phase history.
type PhaseChange struct {
	From Phase     `json:"from"`
	To   Phase     `json:"to"`
	At   time.Time `json:"at"`
}

// PhaseRecord is the stored phase and how it got there.
type PhaseRecord struct {
	Phase Phase     `json:"phase"`
	Since time.Time `json:"since,omitzero"`
	// History lists the changes, oldest first.
	History []PhaseChange `json:"history,omitempty"`
}

// Phase returns the current phase. A bucket without one is in
// PhaseSubscribed (Since is zero then).
func (s *State) Phase(ctx context.Context) (PhaseRecord, error) {
	rec, _, found, err := getJSON[PhaseRecord](ctx, s.kv, keyPhase)
	if err != nil {
		return PhaseRecord{}, err
	}
	if !found || !rec.Phase.Valid() {
		return PhaseRecord{Phase: PhaseSubscribed}, nil
	}
	return rec, nil
}

// Advance moves the phase forward to phase. Advancing to the current phase
// is a no-op; skipping phases forward is allowed (the caller checks its own
// preconditions, as the gates do). Moving backward fails with an error
// matching ErrPhaseBackward and leaves the phase unchanged; an unknown phase
// is an error too.
func (s *State) Advance(ctx context.Context, phase Phase) error {
	if !phase.Valid() {
		_, err := ParsePhase(string(phase))
		return err
	}
	_, err := updateJSON(ctx, s.kv, keyPhase, func(rec *PhaseRecord, found bool) error {
		cur := rec.Phase
		if !found || !cur.Valid() {
			cur = PhaseSubscribed
		}
		if cur == phase && found {
			return errNoChange
		}
		if phase.Before(cur) {
			return fmt.Errorf("advance to %s: the migration is already %s: %w", phase, cur, ErrPhaseBackward)
		}
		now := s.now()
		rec.History = append(rec.History, PhaseChange{From: cur, To: phase, At: now})
		rec.Phase, rec.Since = phase, now
		return nil
	})
	return err
}

// ---- backfill run, checkpoints and control ----

// BackfillRun describes the backfill in progress or last finished. It is
// written once, before the copy starts, with the watermark it relies on.
type BackfillRun struct {
	// ID names the run; chunk descriptors of another run are discarded.
	ID       string   `json:"id"`
	Entities []string `json:"entities"`
	// Source and Target are the stores' DSNs with passwords redacted.
	Source string `json:"source"`
	Target string `json:"target"`
	// Stream, TargetConsumer and LegacyConsumer name the subscriptions.
	Stream         string `json:"stream"`
	TargetConsumer string `json:"target_consumer"`
	LegacyConsumer string `json:"legacy_consumer,omitempty"`
	// Watermark is the target subscription's start sequence: every event
	// below it was processed by the legacy subscription before the copy
	// started (unless WatermarkSkipped).
	Watermark uint64 `json:"watermark"`
	// WatermarkSkipped records that the copy started without waiting.
	WatermarkSkipped bool `json:"watermark_skipped,omitempty"`
	// Chunk is the number of live rows per chunk.
	Chunk      int        `json:"chunk"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// ChunkRange is one key range of a backfill: (After, Through], Through ""
// meaning no upper bound.
type ChunkRange struct {
	Index   int    `json:"index"`
	After   string `json:"after"`
	Through string `json:"through"`
}

// EntityProgress is the checkpoint of one entity's backfill.
type EntityProgress struct {
	Entity string `json:"entity"`
	RunID  string `json:"run_id"`
	// Planned counts the chunks handed out so far; LastChunk is the last one.
	Planned   int        `json:"planned"`
	LastChunk ChunkRange `json:"last_chunk"`
	// PlanDone is set once the last (unbounded) chunk was handed out.
	PlanDone bool `json:"plan_done"`
	// Estimate is the number of source rows (tombstones included) in the
	// planned chunks when they were planned.
	Estimate int64 `json:"estimate"`
	// ChunksDone counts finished chunks; DoneBits marks them, so a chunk
	// finished twice (redelivered after its copier died before the ack)
	// counts once.
	ChunksDone int    `json:"chunks_done"`
	DoneBits   []byte `json:"done_bits,omitempty"`
	// LastKey is the highest key of any finished chunk.
	LastKey string `json:"last_key,omitempty"`
	// Scanned counts source rows read, tombstones included; Inserted the
	// rows written; Skipped the rows the target already had (or a tombstone
	// of); Tombstones the source tombstones copied or skipped.
	Scanned    int64 `json:"scanned"`
	Inserted   int64 `json:"inserted"`
	Skipped    int64 `json:"skipped"`
	Tombstones int64 `json:"tombstones"`
	// Rejected counts source rows the target store can never hold (see the
	// copier's log for their keys); they are left out, not retried.
	Rejected int64 `json:"rejected,omitempty"`
	// Done is set by the copier that finishes the last chunk.
	Done       bool       `json:"done"`
	StartedAt  time.Time  `json:"started_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

func (p *EntityProgress) chunkDone(i int) bool {
	return i/8 < len(p.DoneBits) && p.DoneBits[i/8]&(1<<(i%8)) != 0
}

func (p *EntityProgress) markChunk(i int) {
	for len(p.DoneBits) <= i/8 {
		p.DoneBits = append(p.DoneBits, 0)
	}
	p.DoneBits[i/8] |= 1 << (i % 8)
}

// complete reports whether every planned chunk is finished.
func (p *EntityProgress) complete() bool { return p.PlanDone && p.ChunksDone >= p.Planned }

// Fraction is the share of the estimate copied, between 0 and 1.
func (p EntityProgress) Fraction() float64 {
	switch {
	case p.Done:
		return 1
	case p.Estimate <= 0:
		return 0
	}
	return min(1, float64(p.Scanned)/float64(p.Estimate))
}

// BackfillRun returns the current run; found is false when no backfill
// was started.
func (s *State) BackfillRun(ctx context.Context) (run BackfillRun, found bool, err error) {
	run, _, found, err = getJSON[BackfillRun](ctx, s.kv, keyBackfillRun)
	return run, found, err
}

// EntityProgress returns the checkpoint of one entity.
func (s *State) EntityProgress(ctx context.Context, entity string) (EntityProgress, bool, error) {
	p, _, found, err := getJSON[EntityProgress](ctx, s.kv, prefixEntity+entity)
	return p, found, err
}

// BackfillProgress returns the checkpoints of the current run's entities,
// in the run's order (an entity not started yet has a zero checkpoint with
// only its name set).
func (s *State) BackfillProgress(ctx context.Context) (BackfillRun, []EntityProgress, bool, error) {
	run, found, err := s.BackfillRun(ctx)
	if err != nil || !found {
		return run, nil, found, err
	}
	out := make([]EntityProgress, 0, len(run.Entities))
	for _, e := range run.Entities {
		p, ok, err := s.EntityProgress(ctx, e)
		if err != nil {
			return run, nil, true, err
		}
		if !ok || p.RunID != run.ID {
			p = EntityProgress{Entity: e, RunID: run.ID}
		}
		out = append(out, p)
	}
	return run, out, true, nil
}

// updateEntity is a compare-and-set update of one entity's checkpoint.
func (s *State) updateEntity(ctx context.Context, entity string, fn func(p *EntityProgress, found bool) error) (EntityProgress, error) {
	return updateJSON(ctx, s.kv, prefixEntity+entity, fn)
}

// BackfillComplete reports whether a backfill ran to the end for every
// entity of its run, with a one-line reason either way (what is missing,
// or what completed when). It is the first promotion and cleanup gate.
func (s *State) BackfillComplete(ctx context.Context) (bool, string, error) {
	run, progress, found, err := s.BackfillProgress(ctx)
	if err != nil {
		return false, "", err
	}
	if !found {
		return false, "no backfill has been started", nil
	}
	var pending []string
	for _, p := range progress {
		if !p.Done {
			pending = append(pending, fmt.Sprintf("%s (%d of %d chunks, %d rows)", p.Entity, p.ChunksDone, p.Planned, p.Scanned))
		}
	}
	if len(pending) > 0 {
		return false, "backfill " + run.ID + " still copying: " + strings.Join(pending, ", "), nil
	}
	if run.WatermarkSkipped {
		return true, fmt.Sprintf("backfill %s complete for %s (started without waiting for the watermark)", run.ID, strings.Join(run.Entities, ", ")), nil
	}
	return true, fmt.Sprintf("backfill %s complete for %s", run.ID, strings.Join(run.Entities, ", ")), nil
}

// BackfillControl steers running copiers. Copiers watch it, so a change
// applies within a second, without a restart.
type BackfillControl struct {
	// Paused stops every copier after its current batch.
	Paused bool `json:"paused"`
	// MaxRate caps the rows per second each copier process writes; 0 means
	// no cap.
	MaxRate   int       `json:"max_rate"`
	Reason    string    `json:"reason,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// BackfillControl returns the current control (the zero value, running
// without a cap, when none was set).
func (s *State) BackfillControl(ctx context.Context) (BackfillControl, error) {
	c, _, _, err := getJSON[BackfillControl](ctx, s.kv, keyBackfillControl)
	return c, err
}

// UpdateBackfillControl changes the control with fn, atomically.
func (s *State) UpdateBackfillControl(ctx context.Context, fn func(*BackfillControl)) (BackfillControl, error) {
	return updateJSON(ctx, s.kv, keyBackfillControl, func(c *BackfillControl, _ bool) error {
		fn(c)
		if c.MaxRate < 0 {
			return fmt.Errorf("max rate %d: must not be negative", c.MaxRate)
		}
		c.UpdatedAt = s.now()
		return nil
	})
}

// WatchBackfillControl sends the current control and every change until ctx
// ends; the channel is closed then.
func (s *State) WatchBackfillControl(ctx context.Context) (<-chan BackfillControl, error) {
	w, err := s.kv.Watch(ctx, keyBackfillControl)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", keyBackfillControl, err)
	}
	out := make(chan BackfillControl, 1)
	go func() {
		defer close(out)
		defer func() { _ = w.Stop() }()
		sent := false
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				var c BackfillControl
				if e == nil { // initial values delivered
					if sent {
						continue
					}
				} else if e.Operation() == jetstream.KeyValuePut {
					if json.Unmarshal(e.Value(), &c) != nil {
						continue
					}
				}
				sent = true
				select {
				case out <- c:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// resetBackfill forgets the run and every entity checkpoint.
func (s *State) resetBackfill(ctx context.Context, entities []string) error {
	keys := append([]string{keyBackfillRun}, func() []string {
		out := make([]string, len(entities))
		for i, e := range entities {
			out[i] = prefixEntity + e
		}
		return out
	}()...)
	for _, k := range keys {
		if err := s.kv.Purge(ctx, k); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("reset %s: %w", k, err)
		}
	}
	return nil
}

// ---- verify ----

// VerifyResult is the outcome of one verify run, stored for gates, status
// and cleanup.
type VerifyResult struct {
	// Client is the client verified; "" for every client.
	Client   string   `json:"client,omitempty"`
	Entities []string `json:"entities"`
	Source   string   `json:"source"`
	Target   string   `json:"target"`
	// Complete is false when the run stopped before covering every range.
	Complete bool `json:"complete"`
	// Clean is Complete with no differences.
	Clean      bool      `json:"clean"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// RowsSource and RowsTarget count the live rows compared.
	RowsSource int64 `json:"rows_source"`
	RowsTarget int64 `json:"rows_target"`
	// Chunks counts the ranges compared; ChunksDiffering those whose
	// checksums differed and were drilled into.
	Chunks          int64 `json:"chunks"`
	ChunksDiffering int64 `json:"chunks_differing"`
	// Differences counts the findings reported; Settled counts the keys that
	// differed at first and agreed once the subscriptions caught up.
	Differences int64            `json:"differences"`
	ByKind      map[string]int64 `json:"by_kind,omitempty"`
	Settled     int64            `json:"settled"`
	// DirtyClients counts the findings per client, for per-client gates,
	// up to MaxDirtyClients clients; DirtyClientsTruncated says some were
	// left out (every client then counts as unverified).
	DirtyClients          map[string]int64 `json:"dirty_clients,omitempty"`
	DirtyClientsTruncated bool             `json:"dirty_clients_truncated,omitempty"`
	// FindingsFile is where the findings were written, if anywhere.
	FindingsFile string `json:"findings_file,omitempty"`
	// Derived is set on a per-client result derived from a whole verify.
	Derived bool `json:"derived,omitempty"`
}

// MaxDirtyClients bounds the per-client counts kept in a whole result.
const MaxDirtyClients = 1000

// Age is how long ago the result was produced.
func (r VerifyResult) Age(now time.Time) time.Duration { return now.Sub(r.FinishedAt) }

func clientKey(client string) string {
	return prefixVerifyClient + base64.RawURLEncoding.EncodeToString([]byte(client))
}

// SaveVerify stores a verify result: under the client when r.Client is set,
// as the whole result otherwise.
func (s *State) SaveVerify(ctx context.Context, r VerifyResult) error {
	r.Clean = r.Complete && r.Differences == 0
	if r.Client != "" {
		return putJSON(ctx, s.kv, clientKey(r.Client), r)
	}
	return putJSON(ctx, s.kv, keyVerifyWhole, r)
}

// LastVerify returns the newest verify result that covers client ("" for
// the whole result). For a client, that is the later of its own verify and
// the last whole verify; a result taken from a whole verify has Derived set
// and counts only that client's findings. found is false when nothing
// covering the client was verified yet.
func (s *State) LastVerify(ctx context.Context, client string) (VerifyResult, bool, error) {
	whole, _, wholeFound, err := getJSON[VerifyResult](ctx, s.kv, keyVerifyWhole)
	if err != nil {
		return VerifyResult{}, false, err
	}
	if client == "" {
		return whole, wholeFound, nil
	}
	own, _, ownFound, err := getJSON[VerifyResult](ctx, s.kv, clientKey(client))
	if err != nil {
		return VerifyResult{}, false, err
	}
	if ownFound && (!wholeFound || !whole.FinishedAt.After(own.FinishedAt)) {
		return own, true, nil
	}
	if !wholeFound {
		return VerifyResult{}, false, nil
	}
	return deriveClient(whole, client), true, nil
}

func deriveClient(whole VerifyResult, client string) VerifyResult {
	r := whole
	r.Client, r.Derived = client, true
	n, dirty := whole.DirtyClients[client]
	r.DirtyClients, r.ByKind = nil, nil
	r.Differences = n
	switch {
	case dirty:
		r.Clean = false
	case whole.DirtyClientsTruncated && whole.Differences > 0:
		// Too many dirty clients to list: this one may be among them.
		r.Clean, r.Differences = false, -1
	default:
		r.Clean = whole.Complete
	}
	return r
}

// VerifyCheckpoint is where an interrupted verify resumes.
type VerifyCheckpoint struct {
	Scope   string        `json:"scope"`
	Partial VerifyResult  `json:"partial"`
	Entity  string        `json:"entity"`
	After   string        `json:"after"`
	Done    []string      `json:"done,omitempty"`
	Updated time.Time     `json:"updated"`
	Elapsed time.Duration `json:"elapsed"`
}

func verifyCkptKey(scope string) string {
	return prefixVerifyCkpt + base64.RawURLEncoding.EncodeToString([]byte(scope))
}

func (s *State) verifyCheckpoint(ctx context.Context, scope string) (VerifyCheckpoint, bool, error) {
	c, _, found, err := getJSON[VerifyCheckpoint](ctx, s.kv, verifyCkptKey(scope))
	if found && c.Scope != scope {
		found = false
	}
	return c, found, err
}

func (s *State) saveVerifyCheckpoint(ctx context.Context, c VerifyCheckpoint) error {
	c.Updated = s.now()
	return putJSON(ctx, s.kv, verifyCkptKey(c.Scope), c)
}

func (s *State) dropVerifyCheckpoint(ctx context.Context, scope string) error {
	if err := s.kv.Purge(ctx, verifyCkptKey(scope)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("drop verify checkpoint: %w", err)
	}
	return nil
}

// ---- cleanup ----

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

// Cleanup returns the cleanup record; found is false before cleanup.
func (s *State) Cleanup(ctx context.Context) (CleanupRecord, bool, error) {
	r, _, found, err := getJSON[CleanupRecord](ctx, s.kv, keyCleanup)
	return r, found, err
}

func (s *State) saveCleanup(ctx context.Context, r CleanupRecord) error {
	return putJSON(ctx, s.kv, keyCleanup, r)
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func jsonBytes(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return b, nil
}
