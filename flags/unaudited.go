package flags

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// UnauditedChange is a revision of a client's override in the flag bucket
// that no audit entry accounts for: a stage written past Switchyard (a
// direct key-value put or delete with the bucket's credentials), or a
// change whose audit append failed (the change then also logged an error).
type UnauditedChange struct {
	// Revision is the bucket revision, Time when it was written.
	Revision uint64    `json:"revision"`
	Time     time.Time `json:"time"`
	// Operation is "put", "delete" or "purge".
	Operation string `json:"operation"`
	// Stage is the stage the put wrote, as far as it reads as an override.
	Stage Stage `json:"stage,omitempty"`
}

// UnauditedChanges compares the kept revisions of client's override (the
// bucket's history, 64 by default) with the client's audit entries and
// returns the revisions no entry names, oldest first. Every change made
// through a Store records its revision in the audit entry. It fails with
// ErrAudit when the store has no audit log.
func (s *Store) UnauditedChanges(ctx context.Context, client string) ([]UnauditedChange, error) {
	if err := ValidateClient(client); err != nil {
		return nil, err
	}
	if s.audit == nil {
		return nil, fmt.Errorf("%w: no audit log configured", ErrAudit)
	}
	hist, err := s.kv.History(ctx, overrideKey(client))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, s.unavailable(err)
	}
	entries, err := s.audit.List(ctx, AuditQuery{Client: client, Limit: 1000})
	if err != nil {
		return nil, err
	}
	audited := make(map[uint64]bool, len(entries))
	for _, e := range entries {
		if e.Scope == ScopeClient && e.Revision > 0 {
			audited[e.Revision] = true
		}
	}
	var out []UnauditedChange
	for _, h := range hist {
		if audited[h.Revision()] {
			continue
		}
		c := UnauditedChange{Revision: h.Revision(), Time: h.Created().UTC(), Operation: "put"}
		switch h.Operation() {
		case jetstream.KeyValueDelete:
			c.Operation = "delete"
		case jetstream.KeyValuePurge:
			c.Operation = "purge"
		default:
			if o, err := decodeOverride(client, h.Value(), h.Revision()); err == nil {
				c.Stage = o.Stage
			}
		}
		out = append(out, c)
	}
	return out, nil
}
