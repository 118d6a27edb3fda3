package migrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/lifecycle"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

// VerifyConfig configures a verify. Zero values take the defaults named on
// each field.
type VerifyConfig struct {
	// Source is the store of truth (the legacy store); Target the copy.
	Source, Target stores.Reader
	// SourceName and TargetName are recorded with passwords redacted.
	SourceName, TargetName string
	// Entities to compare, at least one.
	Entities []string
	// Client restricts the comparison to one client's rows; "" compares all.
	Client string
	// ChunkRows is the number of live source rows per checksum (default 1000).
	ChunkRows int
	// MaxRate caps the source rows compared per second (0: none).
	MaxRate int
	// Findings receives one JSON object per finding and line (nil: none);
	// FindingsFile is its name, recorded in the result.
	Findings     io.Writer
	FindingsFile string
	// State keeps the checkpoint and the result; required.
	State *State

	// JS, Stream, TargetConsumer and (optionally) LegacyConsumer let a
	// difference settle: before a key is reported, verify waits until the
	// subscriptions processed every event published when it was seen, then
	// compares again. Without them a difference is re-read once.
	JS                                     jetstream.JetStream
	Stream, TargetConsumer, LegacyConsumer string
	// SettleTimeout bounds the wait per differing chunk (default 30 s).
	SettleTimeout time.Duration

	// Restart ignores a checkpoint left by an interrupted verify.
	Restart bool
	// Log receives what verify does (nil: discarded); Progress, when set,
	// shows progress.
	Log      *slog.Logger
	Progress *Progress
}

func (c *VerifyConfig) defaults() error {
	var problems []string
	if c.Source == nil || c.Target == nil {
		problems = append(problems, "a source and a target store are required")
	}
	if c.State == nil {
		problems = append(problems, "a state bucket is required")
	}
	if len(c.Entities) == 0 {
		problems = append(problems, "at least one entity is required")
	}
	for _, e := range c.Entities {
		if !events.ValidEntity(e) {
			problems = append(problems, fmt.Sprintf("entity %q does not match ^[a-z][a-z0-9_]{0,62}$", e))
		}
	}
	if len(c.Client) > events.MaxClientBytes {
		problems = append(problems, "client is longer than 255 bytes")
	}
	if c.ChunkRows < 0 || c.MaxRate < 0 {
		problems = append(problems, "chunk and max rate must not be negative")
	}
	if c.JS != nil && (c.Stream == "" || c.TargetConsumer == "") {
		problems = append(problems, "settling needs the stream and the target consumer")
	}
	if len(problems) > 0 {
		return fmt.Errorf("verify: %s", strings.Join(problems, "; "))
	}
	if c.ChunkRows == 0 {
		c.ChunkRows = DefaultVerifyChunkRows
	}
	if c.SettleTimeout <= 0 {
		c.SettleTimeout = DefaultSettleTimeout
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	c.Entities = slices.Compact(slices.Sorted(slices.Values(c.Entities)))
	return nil
}

// VerifyScope names what a verify covers; its checkpoint is kept under it.
func VerifyScope(entities []string, client string) string {
	sorted := slices.Compact(slices.Sorted(slices.Values(entities)))
	return strings.Join(sorted, ",") + "|" + client
}

// HasVerifyCheckpoint reports whether an interrupted verify of this scope
// can be resumed.
func (s *State) HasVerifyCheckpoint(ctx context.Context, scope string) (bool, error) {
	_, found, err := s.verifyCheckpoint(ctx, scope)
	return found, err
}

// Verify compares the source and the target over key ranges: a checksum per
// chunk of ChunkRows source rows (the target summed over the same key
// range, the last chunk unbounded, so extra rows after the last source key
// are caught), then, where checksums differ, a row-by-row merge of the
// chunk. A differing key is reported only if it still differs after the
// subscriptions caught up (see VerifyConfig.JS).
//
// Progress is checkpointed per chunk: an interrupted verify (ctx ended)
// returns ctx's error and resumes where it stopped on the next call with
// the same scope. A completed verify stores its result in the state bucket
// (per client when Client is set), drops the checkpoint and, for a whole
// verify after a complete backfill, advances the phase to verifying. Findings are
// written as they are confirmed.
func Verify(ctx context.Context, cfg VerifyConfig) (VerifyResult, error) {
	if err := cfg.defaults(); err != nil {
		return VerifyResult{}, err
	}
	v := &verifier{cfg: cfg, log: cfg.Log, throttle: NewThrottle(ThrottleConfig{MaxRate: cfg.MaxRate, Burst: cfg.ChunkRows})}
	if cfg.Findings != nil {
		v.enc = json.NewEncoder(cfg.Findings)
		v.enc.SetEscapeHTML(false)
	}
	scope := VerifyScope(cfg.Entities, cfg.Client)
	ckpt, found, err := cfg.State.verifyCheckpoint(ctx, scope)
	if err != nil {
		return VerifyResult{}, err
	}
	if found && !cfg.Restart {
		v.log.Info("resuming the interrupted verify", "entity", ckpt.Entity, "after", ckpt.After, "rows_compared", ckpt.Partial.RowsSource)
	} else {
		ckpt = VerifyCheckpoint{Scope: scope, Partial: VerifyResult{
			Client: cfg.Client, Entities: cfg.Entities, StartedAt: time.Now().UTC(),
			Source: stores.Redact(cfg.SourceName), Target: stores.Redact(cfg.TargetName), FindingsFile: cfg.FindingsFile,
		}}
	}
	v.ckpt = ckpt
	v.total = v.estimate(ctx)
	started := time.Now()
	for _, entity := range cfg.Entities {
		if slices.Contains(v.ckpt.Done, entity) {
			continue
		}
		after := ""
		if v.ckpt.Entity == entity {
			after = v.ckpt.After
		}
		if err := v.entity(ctx, entity, after, started); err != nil {
			v.finishProgress()
			if ctx.Err() != nil {
				return v.ckpt.Partial, fmt.Errorf("verify interrupted; run it again to resume: %w", ctx.Err())
			}
			return v.ckpt.Partial, err
		}
		v.ckpt.Done = append(v.ckpt.Done, entity)
		v.ckpt.Entity, v.ckpt.After = "", ""
		if err := v.saveCheckpoint(ctx); err != nil {
			return v.ckpt.Partial, err
		}
	}
	v.finishProgress()
	res := v.ckpt.Partial
	res.Complete = true
	res.Clean = res.Differences == 0
	res.FinishedAt = time.Now().UTC()
	if err := cfg.State.SaveVerify(ctx, res); err != nil {
		return res, err
	}
	if err := cfg.State.dropVerifyCheckpoint(ctx, scope); err != nil {
		return res, err
	}
	// Only a whole verify (every client) moves the phase; a per-client one
	// feeds that client's promotion gate.
	if ok, _, err := cfg.State.BackfillComplete(ctx); err == nil && ok && cfg.Client == "" {
		if err := cfg.State.Advance(ctx, PhaseVerifying); err != nil && !errors.Is(err, ErrPhaseBackward) {
			return res, err
		}
	}
	return res, nil
}

// verifier is one verify in progress.
type verifier struct {
	cfg      VerifyConfig
	log      *slog.Logger
	throttle *Throttle
	enc      *json.Encoder
	ckpt     VerifyCheckpoint
	total    int64
	meter    rateMeter
	lastShow time.Time
}

// estimate guesses the rows to compare from the backfill checkpoints.
func (v *verifier) estimate(ctx context.Context) int64 {
	var total int64
	for _, e := range v.cfg.Entities {
		if p, ok, err := v.cfg.State.EntityProgress(ctx, e); err == nil && ok {
			total += max(p.Estimate, p.Scanned)
		}
	}
	return total
}

// entity compares one entity chunk by chunk from after on.
func (v *verifier) entity(ctx context.Context, entity, after string, started time.Time) error {
	res := &v.ckpt.Partial
	for {
		rng := stores.Range{After: after, Limit: v.cfg.ChunkRows, Client: v.cfg.Client}
		sc, err := retryTransient(ctx, v.log, "checksum source "+entity, func() (stores.Checksum, error) {
			return v.cfg.Source.Checksum(ctx, entity, rng)
		})
		if err != nil {
			return fmt.Errorf("checksum source %s after %q: %w", entity, after, err)
		}
		last := sc.Count < int64(v.cfg.ChunkRows)
		through := sc.LastKey
		if last {
			through = ""
		}
		chunk := stores.Range{After: after, Through: through, Client: v.cfg.Client}
		tc, err := retryTransient(ctx, v.log, "checksum target "+entity, func() (stores.Checksum, error) {
			return v.cfg.Target.Checksum(ctx, entity, chunk)
		})
		if err != nil {
			return fmt.Errorf("checksum target %s (%q, %q]: %w", entity, after, through, err)
		}
		res.Chunks++
		res.RowsSource += sc.Count
		res.RowsTarget += tc.Count
		if !sc.Equal(tc) {
			res.ChunksDiffering++
			if err := v.drill(ctx, entity, chunk); err != nil {
				return err
			}
		}
		v.ckpt.Entity, v.ckpt.After = entity, through
		v.ckpt.Elapsed = time.Since(started)
		if err := v.saveCheckpoint(ctx); err != nil {
			return err
		}
		v.showProgress(entity)
		if last {
			return nil
		}
		if err := v.throttle.Wait(ctx, int(sc.Count)); err != nil {
			return err
		}
		after = through
	}
}

// drill finds the differing keys of a chunk, lets them settle, and reports
// those that still differ.
func (v *verifier) drill(ctx context.Context, entity string, chunk stores.Range) error {
	candidates := map[string]Finding{}
	err := diffRange(ctx, v.cfg.Source, v.cfg.Target, entity, chunk, v.cfg.ChunkRows, func(f Finding, _, _ *stores.Record) error {
		candidates[f.Key] = f
		return nil
	})
	if err != nil {
		return fmt.Errorf("compare %s (%q, %q]: %w", entity, chunk.After, chunk.Through, err)
	}
	found := len(candidates)
	confirmed, err := v.settle(ctx, entity, chunk, candidates)
	if err != nil {
		return err
	}
	res := &v.ckpt.Partial
	res.Settled += int64(found - len(confirmed))
	for _, key := range slices.Sorted(maps.Keys(confirmed)) {
		f := confirmed[key]
		if err := v.report(f); err != nil {
			return err
		}
	}
	return nil
}

// settle re-compares the candidate keys until the subscriptions processed
// every event published when the difference was seen and no candidate
// changed version since the last look, or SettleTimeout passes. It returns
// the keys that still differ.
func (v *verifier) settle(ctx context.Context, entity string, chunk stores.Range, candidates map[string]Finding) (map[string]Finding, error) {
	if len(candidates) == 0 {
		return candidates, nil
	}
	deadline := time.Now().Add(v.cfg.SettleTimeout)
	for {
		reached := true
		if v.cfg.JS != nil {
			seq, err := v.streamLastSeq(ctx)
			if err != nil {
				return nil, err
			}
			if reached, err = v.waitProcessed(ctx, seq, deadline); err != nil {
				return nil, err
			}
		}
		still := map[string]Finding{}
		err := diffRange(ctx, v.cfg.Source, v.cfg.Target, entity, chunk, v.cfg.ChunkRows, func(f Finding, _, _ *stores.Record) error {
			if _, ok := candidates[f.Key]; ok {
				still[f.Key] = f
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("re-compare %s (%q, %q]: %w", entity, chunk.After, chunk.Through, err)
		}
		moving := 0
		for k, f := range still {
			if !sameVersions(f, candidates[k]) {
				moving++
			}
		}
		if moving == 0 || !reached || !time.Now().Before(deadline) || v.cfg.JS == nil {
			if moving > 0 {
				v.log.Warn("keys still changing when the settle time ran out; reported as differences", "entity", entity, "keys", moving)
			}
			return still, nil
		}
		candidates = still
	}
}

func sameVersions(a, b Finding) bool {
	return rowVersion(a.Source) == rowVersion(b.Source) && rowVersion(a.Target) == rowVersion(b.Target)
}

func rowVersion(r *RowState) int64 {
	if r == nil {
		return -1
	}
	return r.Version
}

func (v *verifier) streamLastSeq(ctx context.Context) (uint64, error) {
	return retryAlways(ctx, v.log, "read stream "+v.cfg.Stream, func() (uint64, error) {
		s, err := v.cfg.JS.Stream(ctx, v.cfg.Stream)
		if err != nil {
			return 0, fmt.Errorf("stream %s: %w", v.cfg.Stream, err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			return 0, fmt.Errorf("stream %s: %w", v.cfg.Stream, err)
		}
		return info.State.LastSeq, nil
	})
}

// waitProcessed polls until the target (and legacy) subscriptions processed
// every event up to seq, or deadline; it reports whether they did.
func (v *verifier) waitProcessed(ctx context.Context, seq uint64, deadline time.Time) (bool, error) {
	consumers := []string{v.cfg.TargetConsumer}
	if v.cfg.LegacyConsumer != "" {
		consumers = append(consumers, v.cfg.LegacyConsumer)
	}
	for {
		all := true
		for _, c := range consumers {
			st, err := subscriptions.Inspect(ctx, v.cfg.JS, v.cfg.Stream, c)
			if c == v.cfg.LegacyConsumer && errors.Is(err, subscriptions.ErrNotFound) {
				continue // removed by cleanup: the legacy store no longer moves
			}
			if err != nil {
				return false, fmt.Errorf("settle: %w", err)
			}
			if !st.Processed(seq + 1) {
				all = false
				break
			}
		}
		if all {
			return true, nil
		}
		if !time.Now().Before(deadline) {
			return false, nil
		}
		if err := lifecycle.Sleep(ctx, 100*time.Millisecond); err != nil {
			return false, err
		}
	}
}

// report writes a confirmed finding and counts it.
func (v *verifier) report(f Finding) error {
	res := &v.ckpt.Partial
	res.Differences++
	if res.ByKind == nil {
		res.ByKind = map[string]int64{}
	}
	res.ByKind[string(f.Kind)]++
	v.cfg.Progress.finding(f.Kind)
	if _, ok := res.DirtyClients[f.Client]; ok || len(res.DirtyClients) < MaxDirtyClients {
		if res.DirtyClients == nil {
			res.DirtyClients = map[string]int64{}
		}
		res.DirtyClients[f.Client]++
	} else {
		res.DirtyClientsTruncated = true
	}
	if v.enc != nil {
		if err := v.enc.Encode(f); err != nil {
			return fmt.Errorf("write finding: %w", err)
		}
	}
	return nil
}

func (v *verifier) saveCheckpoint(ctx context.Context) error {
	_, err := retryAlways(ctx, v.log, "save verify checkpoint", func() (struct{}, error) {
		return struct{}{}, v.cfg.State.saveVerifyCheckpoint(ctx, v.ckpt)
	})
	return err
}

func (v *verifier) showProgress(entity string) {
	if v.cfg.Progress == nil {
		return
	}
	now := time.Now()
	if now.Sub(v.lastShow) < 200*time.Millisecond {
		return
	}
	v.lastShow = now
	res := v.ckpt.Partial
	v.cfg.Progress.Report(ProgressSnapshot{
		Task: "verify", Done: res.RowsSource, Total: max(v.total, res.RowsSource),
		Rate:   v.meter.update(now, res.RowsSource),
		Detail: fmt.Sprintf("%s, %d differences", entity, res.Differences),
	})
}

func (v *verifier) finishProgress() {
	if v.cfg.Progress != nil {
		v.cfg.Progress.Done()
	}
}
