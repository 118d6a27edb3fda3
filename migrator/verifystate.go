package migrator

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

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
