package migrationstatus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
)

// Verifier runs per-client verifies for the console: one at a time per
// client, in the background, each recorded in the audit log before it
// starts and its result saved in the migration state, where the promotion
// gates read it. Close stops the verifies still running.
type Verifier struct {
	// Config is the verify to run; Client is set per request. Source,
	// Target, Entities and State are required.
	Config migrator.VerifyConfig
	// Audit records who asked for which verify and why. Required: nothing
	// runs unrecorded.
	Audit *flags.AuditLog
	// Timeout bounds one verify (default 1 h).
	Timeout time.Duration
	Log     *slog.Logger

	mu      sync.Mutex
	running map[string]run
	failed  map[string]string
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type run struct {
	started time.Time
	by      string
}

var _ console.Verifier = (*Verifier)(nil)

// NewVerifier checks cfg and returns a Verifier running verifies like cfg
// for single clients.
func NewVerifier(cfg migrator.VerifyConfig, audit *flags.AuditLog, log *slog.Logger) (*Verifier, error) {
	var missing []string
	if cfg.Source == nil || cfg.Target == nil {
		missing = append(missing, "the legacy and target stores")
	}
	if len(cfg.Entities) == 0 {
		missing = append(missing, "the entities to compare")
	}
	if cfg.State == nil {
		missing = append(missing, "the migration state")
	}
	if audit == nil {
		missing = append(missing, "the audit log")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("console verifier: needs %s", strings.Join(missing, ", "))
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Verifier{Config: cfg, Audit: audit, Log: log, running: map[string]run{}, failed: map[string]string{}, ctx: ctx, cancel: cancel}, nil
}

// VerifyClient records the request and starts the verify.
func (v *Verifier) VerifyClient(ctx context.Context, req console.VerifyRequest) (console.ClientVerify, error) {
	now := time.Now()
	v.mu.Lock()
	if r, ok := v.running[req.ClientID]; ok {
		v.mu.Unlock()
		return console.ClientVerify{}, fmt.Errorf("%w: started %s by %s", console.ErrVerifyRunning, r.started.UTC().Format(time.RFC3339), r.by)
	}
	if v.ctx.Err() != nil {
		v.mu.Unlock()
		return console.ClientVerify{}, fmt.Errorf("%w: the console is shutting down", console.ErrUnavailable)
	}
	// Claimed before the audit write, so two requests cannot both start.
	v.running[req.ClientID] = run{started: now, by: req.Actor}
	delete(v.failed, req.ClientID)
	v.mu.Unlock()

	_, err := v.Audit.Append(ctx, flags.AuditEntry{
		Scope: flags.ScopeVerify, Client: req.ClientID, Actor: req.Actor, Reason: req.Reason,
		To: "verify of " + strings.Join(v.Config.Entities, ", "),
	})
	if err != nil {
		v.mu.Lock()
		delete(v.running, req.ClientID)
		v.mu.Unlock()
		return console.ClientVerify{}, fmt.Errorf("%w: verify of %s not started: %w", console.ErrAuditIncomplete, req.ClientID, err)
	}
	v.wg.Add(1)
	go v.run(req)
	return v.ClientVerify(ctx, req.ClientID)
}

func (v *Verifier) run(req console.VerifyRequest) {
	defer v.wg.Done()
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = time.Hour
	}
	ctx, cancel := context.WithTimeout(v.ctx, timeout)
	defer cancel()
	cfg := v.Config
	cfg.Client = req.ClientID
	cfg.Log = v.Log.With("client", req.ClientID)
	res, err := migrator.Verify(ctx, cfg)
	v.mu.Lock()
	delete(v.running, req.ClientID)
	if err != nil {
		v.failed[req.ClientID] = err.Error()
	}
	v.mu.Unlock()
	if err != nil {
		v.Log.Error("client verify failed", "client", req.ClientID, "user", req.Actor, "err", err)
		return
	}
	v.Log.Info("client verify finished", "client", req.ClientID, "user", req.Actor, "clean", res.Clean, "differences", res.Differences)
}

// ClientVerify returns the running verify and the newest result covering
// client.
func (v *Verifier) ClientVerify(ctx context.Context, client string) (console.ClientVerify, error) {
	out := console.ClientVerify{Entities: v.Config.Entities}
	v.mu.Lock()
	if r, ok := v.running[client]; ok {
		out.Running, out.RunningBy = r.started, r.by
	}
	out.Failed = v.failed[client]
	v.mu.Unlock()
	res, found, err := v.Config.State.LastVerify(ctx, client)
	if err != nil {
		return console.ClientVerify{}, fmt.Errorf("%w: last verify: %w", console.ErrUnavailable, err)
	}
	if found {
		out.Last = &console.VerifyResult{At: res.FinishedAt, Clean: res.Clean, Findings: int(res.Differences), Summary: verifySummary(res)}
	}
	return out, nil
}

// Close cancels the verifies still running and waits for them to stop.
func (v *Verifier) Close() {
	v.cancel()
	v.wg.Wait()
}

// VerifierStores are the stores and subscriptions a console verifier
// compares; OpenVerifier opens them.
type VerifierStores struct {
	LegacyDSN, TargetDSN string
	Entities             []string
	// JS, Stream and the consumers let differences settle (see
	// migrator.VerifyConfig).
	JS                             jetstream.JetStream
	Stream                         string
	TargetConsumer, LegacyConsumer string
}

// OpenVerifier opens both stores and returns a Verifier over them, and a
// function that stops it and closes the stores.
func OpenVerifier(ctx context.Context, s VerifierStores, state *migrator.State, audit *flags.AuditLog, log *slog.Logger) (*Verifier, func(), error) {
	legacy, err := all.Open(ctx, s.LegacyDSN)
	if err != nil {
		return nil, nil, fmt.Errorf("legacy store: %w", err)
	}
	target, err := all.Open(ctx, s.TargetDSN)
	if err != nil {
		legacy.Close()
		return nil, nil, fmt.Errorf("target store: %w", err)
	}
	v, err := NewVerifier(migrator.VerifyConfig{
		Source: legacy, Target: target, SourceName: stores.Redact(s.LegacyDSN), TargetName: stores.Redact(s.TargetDSN),
		Entities: s.Entities, State: state,
		JS: s.JS, Stream: s.Stream, TargetConsumer: s.TargetConsumer, LegacyConsumer: s.LegacyConsumer,
	}, audit, log)
	if err != nil {
		legacy.Close()
		target.Close()
		return nil, nil, err
	}
	return v, func() {
		v.Close()
		err := errors.Join(legacy.Close(), target.Close())
		if err != nil {
			v.Log.Warn("closing the verifier's stores", "err", err)
		}
	}, nil
}
