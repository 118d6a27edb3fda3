package flags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/jsdeclare"
)

// Audit scopes: what a change applied to.
const (
	// ScopeClient: a client's override was set or cleared.
	ScopeClient = "client"
	// ScopeDefault: the default stage changed.
	ScopeDefault = "default"
	// ScopeRollout: the rollout changed.
	ScopeRollout = "rollout"
	// ScopeShadowReset: a client's shadow counters were reset, so the
	// shadow gate counts from zero again.
	ScopeShadowReset = "shadow-reset"
	// ScopeVerify: someone asked for a verify of a client's rows.
	ScopeVerify = "verify"
)

// ActorAutoRollback is the actor of changes made by a Router's automatic
// rollback.
const ActorAutoRollback = "auto-rollback"

// AuditEntry is one change of the flag model, as appended to the audit
// stream.
type AuditEntry struct {
	// Seq is the entry's stream sequence, filled in when read.
	Seq    uint64    `json:"-"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Scope  string    `json:"scope"`
	Client string    `json:"client,omitempty"`
	// From and To are stages; for a rollout they read like "target 25%".
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
	// Forced is true when failing promotion gates were overridden;
	// FailedGates names them.
	Forced      bool     `json:"forced,omitempty"`
	FailedGates []string `json:"failed_gates,omitempty"`
	// Revision is the flag bucket revision the change produced.
	Revision uint64 `json:"revision,omitempty"`
}

// AuditConfig configures the audit stream.
type AuditConfig struct {
	// Stream is the JetStream stream; default "SWITCHYARD_AUDIT".
	Stream string
	// Subject prefix; default "switchyard.audit". Entries go to
	// <prefix>.client.<encoded client>, <prefix>.default and <prefix>.rollout.
	Subject string
	// MaxAge bounds how long entries are kept; zero keeps them forever.
	MaxAge time.Duration
	// Replicas of the stream when it is created; default 1.
	Replicas int
	// MustExist opens an existing stream only: a missing one fails with an
	// error matching jsdeclare.ErrMissing instead of being created
	// (read-only commands). An existing one is never changed.
	MustExist bool
	// Protect turns on DenyDelete and DenyPurge on an existing stream that
	// lacks them. That cannot be undone, so it happens only when asked; a
	// new stream always gets them.
	Protect bool
}

func (c AuditConfig) withDefaults() AuditConfig {
	if c.Stream == "" {
		c.Stream = "SWITCHYARD_AUDIT"
	}
	if c.Subject == "" {
		c.Subject = "switchyard.audit"
	}
	return c
}

// AuditLog appends flag changes to a JetStream stream and reads them back.
// It is safe for concurrent use.
type AuditLog struct {
	js        jetstream.JetStream
	cfg       AuditConfig
	protected bool
}

// ErrAuditUnprotected: the audit stream allows deleting or purging
// entries, so the trail can be edited by anyone allowed to; see
// AuditConfig.Protect.
var ErrAuditUnprotected = errors.New("the audit stream allows deletes or purges")

// OpenAuditLog opens the audit stream, creating it when it does not exist
// (unless cfg.MustExist: then it fails with an error matching
// jsdeclare.ErrMissing) with cfg.Replicas and with DenyDelete and DenyPurge set: entries can then neither be deleted nor
// purged through the JetStream API, by anyone. An existing stream is not
// changed (so a role that may only read it can open it), except that
// AuditConfig.Protect adds the two settings when missing; without Protect a
// stream lacking them opens with Protected false. It fails with an error
// matching ErrUnavailable when JetStream cannot be reached, and with an
// *InvalidError when the existing stream does not hold the audit subjects.
func OpenAuditLog(ctx context.Context, js jetstream.JetStream, cfg AuditConfig) (*AuditLog, error) {
	cfg = cfg.withDefaults()
	want := jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "Switchyard flag changes: who, when, from, to, why",
		Subjects:    []string{cfg.Subject + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      cfg.MaxAge,
		Replicas:    cfg.Replicas,
		DenyDelete:  true,
		DenyPurge:   true,
	}
	stream, err := jsdeclare.Stream(ctx, js, want, declareMode(cfg.MustExist))
	if err != nil {
		return nil, openError("audit stream", cfg.Stream, err)
	}
	have := stream.CachedInfo().Config
	if !slices.Contains(have.Subjects, cfg.Subject+".>") {
		return nil, invalid("audit stream", "%s holds %v, not the audit subjects %s.>", cfg.Stream, have.Subjects, cfg.Subject)
	}
	protected := have.DenyDelete && have.DenyPurge
	if !protected && cfg.Protect {
		have.DenyDelete, have.DenyPurge = true, true
		if _, err := js.UpdateStream(ctx, have); err != nil {
			return nil, fmt.Errorf("audit stream %s: protect against deletes and purges: %w", cfg.Stream, err)
		}
		protected = true
	}
	return &AuditLog{js: js, cfg: cfg, protected: protected}, nil
}

// Protected reports whether the audit stream refuses deletes and purges.
// When it does not, Check names the problem.
func (a *AuditLog) Protected() bool { return a.protected }

// Check returns nil when the audit stream refuses deletes and purges, else
// an error matching ErrAuditUnprotected that says how to fix it.
func (a *AuditLog) Check() error {
	if a.protected {
		return nil
	}
	return fmt.Errorf("audit stream %s: %w: entries can be removed; protect it (irreversibly) with --protect-audit-stream", a.cfg.Stream, ErrAuditUnprotected)
}

func (a *AuditLog) subject(scope, client string) string {
	// Every entry about one client shares its subject, so a client's
	// audit trail is one filtered read.
	if scope == ScopeClient || scope == ScopeShadowReset || scope == ScopeVerify {
		return a.cfg.Subject + ".client." + encodeClient(client)
	}
	return a.cfg.Subject + "." + scope
}

// Append publishes e and waits for the stream to store it. Time defaults to
// now. It returns the entry's sequence.
func (a *AuditLog) Append(ctx context.Context, e AuditEntry) (uint64, error) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	switch e.Scope {
	case ScopeClient, ScopeShadowReset, ScopeVerify:
		if err := ValidateClient(e.Client); err != nil {
			return 0, err
		}
	case ScopeDefault, ScopeRollout:
	default:
		return 0, invalid("scope", "%q is not one of client, default, rollout, shadow-reset, verify", e.Scope)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("audit entry: %w", err)
	}
	ack, err := a.js.Publish(ctx, a.subject(e.Scope, e.Client), b)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrAudit, err)
	}
	return ack.Sequence, nil
}

// AuditQuery selects audit entries.
type AuditQuery struct {
	// Client, when set, returns only that client's entries.
	Client string
	// Before, when set, returns only entries with a sequence below it, for
	// paging backwards: pass the Seq of the oldest entry of the last page.
	Before uint64
	// Limit caps the entries returned; default 100, at most 1000.
	Limit int
}

// List returns the newest entries matching q, newest first. Reading a single
// client's entries scans that client's subject only.
func (a *AuditLog) List(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit > MaxLimit {
		return nil, invalid("limit", "%d is above the maximum of %d", q.Limit, MaxLimit)
	}
	stream, err := a.js.Stream(ctx, a.cfg.Stream)
	if err != nil {
		return nil, fmt.Errorf("audit stream %s: %w: %w", a.cfg.Stream, ErrUnavailable, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit stream %s: %w: %w", a.cfg.Stream, ErrUnavailable, err)
	}
	last := info.State.LastSeq
	if q.Before > 0 && q.Before-1 < last {
		last = q.Before - 1
	}
	if info.State.Msgs == 0 || last < info.State.FirstSeq {
		return nil, nil
	}
	occ := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy}
	if q.Client != "" {
		if err := ValidateClient(q.Client); err != nil {
			return nil, err
		}
		occ.FilterSubjects = []string{a.subject(ScopeClient, q.Client)}
		occ.OptStartSeq = info.State.FirstSeq
	} else {
		occ.OptStartSeq = max(info.State.FirstSeq, last-min(last, uint64(q.Limit))+1)
	}
	cons, err := stream.OrderedConsumer(ctx, occ)
	if err != nil {
		return nil, fmt.Errorf("audit stream %s: %w", a.cfg.Stream, err)
	}
	ring := make([]AuditEntry, 0, q.Limit)
	for {
		batch, err := cons.FetchNoWait(256)
		if err != nil {
			return nil, fmt.Errorf("audit stream %s: %w", a.cfg.Stream, err)
		}
		n, done := 0, false
		for msg := range batch.Messages() {
			n++
			md, err := msg.Metadata()
			if err != nil {
				continue
			}
			if md.Sequence.Stream > last {
				done = true
				continue
			}
			var e AuditEntry
			if err := json.Unmarshal(msg.Data(), &e); err != nil {
				continue // not written by AuditLog; skip rather than fail the page
			}
			e.Seq = md.Sequence.Stream
			if len(ring) == q.Limit {
				ring = append(ring[:0], ring[1:]...)
			}
			ring = append(ring, e)
			if md.NumPending == 0 || md.Sequence.Stream == last {
				done = true
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("audit stream %s: %w", a.cfg.Stream, err)
		}
		if done || n == 0 {
			break
		}
	}
	slices.Reverse(ring)
	return ring, nil
}
