package reads

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-feature/go-sdk/openfeature"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/gate"
	"github.com/switchyard/switchyard/stores"
)

// StageEvaluator is the part of the OpenFeature client API the router
// needs; *openfeature.Client satisfies it, so any provider serving the
// string flag "read-stage" (targeting key = client id) can be plugged in.
type StageEvaluator interface {
	StringValueDetails(ctx context.Context, flag string, defaultValue string, evalCtx openfeature.EvaluationContext, options ...openfeature.Option) (openfeature.StringEvaluationDetails, error)
}

// RepairFunc re-copies keys of one entity from legacy to the target. The
// migrator's RepairKeys fits through a small closure.
type RepairFunc func(ctx context.Context, entity string, keys []string) error

// RollbackFunc moves client back to legacy; Store.AutoRollback fits.
type RollbackFunc func(ctx context.Context, client, reason string) error

// AutoRollbackConfig rolls a client back to legacy when reads from the
// target fail too often.
type AutoRollbackConfig struct {
	// Rollback performs it. Required.
	Rollback RollbackFunc
	// ErrorRate is the share of failed target reads (0..1) that triggers it;
	// default 0.5.
	ErrorRate float64
	// MinReads is the least target reads in a window before the rate
	// counts; default 20.
	MinReads int64
	// Window is the counting window per client; default 1 minute.
	Window time.Duration
}

// Defaults of RouterConfig, also the read-api command's.
const (
	DefaultReadTimeout       = 10 * time.Second
	DefaultShadowBudget      = 2 * time.Second
	DefaultSettleDelay       = 250 * time.Millisecond
	DefaultSettleChecks      = 3
	DefaultSettleKeys        = 32
	DefaultMaxShadowInFlight = 64
	DefaultMismatchSamples   = 100
	DefaultRepairTimeout     = 10 * time.Second
)

// Defaults of AutoRollbackConfig.
const (
	DefaultRollbackErrorRate = 0.5
	DefaultRollbackMinReads  = 20
	DefaultRollbackWindow    = time.Minute
)

// RouterConfig configures a Router.
type RouterConfig struct {
	// Flags evaluates the read stage. Required.
	Flags StageEvaluator
	// Legacy and Target are the two stores. Required.
	Legacy, Target stores.Reader
	// Registerer receives the router's metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// FallbackStage serves a client whose stage cannot be evaluated;
	// default legacy.
	FallbackStage flags.Stage
	// ReadTimeout is the serving store's budget for one read, counted
	// separately from the caller's context: a store that overruns it fails
	// the read with ErrStoreTimeout, which counts as a failure of that
	// store (automatic rollback, metrics). A read whose caller cancelled
	// it, or whose caller's own deadline passed first, is abandoned and
	// counts for nothing. Default 10 s.
	ReadTimeout time.Duration
	// ShadowBudget bounds a secondary read, its comparison and the
	// re-checks of differing keys, which run in the background: the
	// primary's answer never waits for them. A secondary read still running
	// after the budget is abandoned and counted as an error. Default 2 s.
	ShadowBudget time.Duration
	// SettleDelay is how long a shadow read waits before it reads a
	// differing key again from both stores, so that an event one
	// subscription applied and the other not yet does not count as a
	// mismatch; it should exceed the subscriptions' usual lag. Default
	// 250 ms.
	SettleDelay time.Duration
	// SettleChecks is how many times a key that keeps changing is read
	// again, within ShadowBudget, before it counts as unsettled; default 3.
	SettleChecks int
	// SettleKeys bounds the differing keys of one read that are read again;
	// further keys count as unsettled. Default 32.
	SettleKeys int
	// MaxShadowInFlight bounds concurrent secondary reads; a shadow read
	// finding every slot taken is skipped and counted as dropped. Default 64.
	MaxShadowInFlight int
	// MismatchSamples is how many recent mismatching keys are kept; default
	// 100.
	MismatchSamples int
	// Repair, when set, is called for the keys of every mismatch, inside the
	// same bounded background slot, with RepairTimeout (default 10 s).
	Repair        RepairFunc
	RepairTimeout time.Duration
	// Observers are told about every read (shadow statistics, client
	// registry). They must not block.
	Observers []flags.ClientObserver
	// MismatchSink, when set, is also given every mismatching key (the
	// recent ones are kept in memory regardless, see Mismatches), so they
	// can be shown elsewhere; *ShadowSamples keeps them for the console.
	// It must not block.
	MismatchSink MismatchSink
	// AutoRollback, when set, enables automatic rollback to legacy.
	AutoRollback *AutoRollbackConfig
	Logger       *slog.Logger
}

// GetResult is the answer of Get.
type GetResult struct {
	Record stores.Record
	// Stage is the client's stage; Served the store that answered.
	Stage  flags.Stage
	Served flags.StoreSide
}

// ListResult is the answer of List.
type ListResult struct {
	// Records are the client's live rows in key order.
	Records []stores.Record
	// Next is the key to pass as after for the next page; empty when the
	// range is exhausted.
	Next   string
	Stage  flags.Stage
	Served flags.StoreSide
}

// Limits of List.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// Router serves an application's reads from the store its client's stage
// names, and in the shadow stages compares with the other store in the
// background. It is safe for concurrent use. Close it before closing its
// observers.
type Router struct {
	flags          StageEvaluator
	legacy, target stores.Reader
	fallback       flags.Stage
	readTimeout    time.Duration
	budget         time.Duration
	settleDelay    time.Duration
	settleChecks   int
	settleKeys     int
	repair         RepairFunc
	repairTimeout  time.Duration
	observers      []flags.ClientObserver
	metrics        *routerMetrics
	samples        *mismatchRing
	sink           MismatchSink
	rollback       *rollbackTracker
	log            *slog.Logger

	slots chan struct{} // shadow concurrency
	// mu orders wg.Add against Close's Wait: background work starts only
	// while the router is open.
	mu     sync.RWMutex
	wg     sync.WaitGroup
	closed atomic.Bool
	// base is the parent of every background context; Close cancels it
	// when waiting politely ran out.
	base   context.Context
	cancel context.CancelFunc
}

// NewRouter checks cfg and returns a router. It fails with an
// *InvalidError when a required part is missing, and when the metrics
// cannot be registered.
func NewRouter(cfg RouterConfig) (*Router, error) {
	switch {
	case cfg.Flags == nil:
		return nil, invalid("flags", "an OpenFeature client is required")
	case cfg.Legacy == nil:
		return nil, invalid("legacy", "the legacy store is required")
	case cfg.Target == nil:
		return nil, invalid("target", "the target store is required")
	}
	if cfg.FallbackStage == "" {
		cfg.FallbackStage = flags.StageLegacy
	}
	if !cfg.FallbackStage.Valid() {
		return nil, invalid("fallback stage", "%q is not one of "+gate.StageNames, cfg.FallbackStage)
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.ShadowBudget <= 0 {
		cfg.ShadowBudget = DefaultShadowBudget
	}
	if cfg.SettleDelay <= 0 {
		cfg.SettleDelay = DefaultSettleDelay
	}
	if cfg.SettleChecks <= 0 {
		cfg.SettleChecks = DefaultSettleChecks
	}
	if cfg.SettleKeys <= 0 {
		cfg.SettleKeys = DefaultSettleKeys
	}
	if cfg.MaxShadowInFlight <= 0 {
		cfg.MaxShadowInFlight = DefaultMaxShadowInFlight
	}
	if cfg.MismatchSamples <= 0 {
		cfg.MismatchSamples = DefaultMismatchSamples
	}
	if cfg.RepairTimeout <= 0 {
		cfg.RepairTimeout = DefaultRepairTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newRouterMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	r := &Router{
		flags: cfg.Flags, legacy: cfg.Legacy, target: cfg.Target, fallback: cfg.FallbackStage,
		readTimeout: cfg.ReadTimeout, budget: cfg.ShadowBudget, settleDelay: cfg.SettleDelay, settleChecks: cfg.SettleChecks, settleKeys: cfg.SettleKeys,
		repair: cfg.Repair, repairTimeout: cfg.RepairTimeout,
		observers: cfg.Observers, metrics: m, samples: newMismatchRing(cfg.MismatchSamples), sink: cfg.MismatchSink,
		log: cfg.Logger, slots: make(chan struct{}, cfg.MaxShadowInFlight),
	}
	if cfg.AutoRollback != nil {
		if cfg.AutoRollback.Rollback == nil {
			return nil, invalid("auto rollback", "a rollback function is required")
		}
		if er := cfg.AutoRollback.ErrorRate; er < 0 || er > 1 {
			return nil, invalid("auto rollback error rate", "%v is outside 0..1", er)
		}
		r.rollback = newRollbackTracker(*cfg.AutoRollback)
	}
	r.base, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// ErrClosed: the router was closed.
var ErrClosed = errors.New("read router closed")

// ErrStoreTimeout: a store did not answer within its budget (the router's
// ReadTimeout for the serving store, ShadowBudget for a shadow read). It
// is a failure of that store; the error also matches
// context.DeadlineExceeded.
var ErrStoreTimeout = errors.New("store did not answer within its budget")

// errStoreBudget is the cancellation cause of a store read's context when
// the store's own budget ran out, as opposed to its caller going away.
var errStoreBudget = errors.New("store read budget exhausted")

// Stage evaluates client's read stage. When the evaluation fails the
// fallback stage is returned with the error, which callers may log.
func (r *Router) Stage(ctx context.Context, client string) (flags.Stage, error) {
	d, err := r.flags.StringValueDetails(ctx, flags.FlagKey, string(r.fallback), openfeature.NewEvaluationContext(client, nil))
	st := flags.Stage(d.Value)
	if err == nil && !st.Valid() {
		err = fmt.Errorf("flag %s: provider returned unknown stage %q", flags.FlagKey, truncate(d.Value, 64))
	}
	if err != nil {
		r.metrics.evalErrors.Inc()
		st = r.fallback
	}
	r.metrics.evaluations.WithLabelValues(string(st)).Inc()
	return st, err
}

func validateRead(client, entity string) error {
	if err := flags.ValidateClient(client); err != nil {
		return err
	}
	if entity == "" {
		return invalid("entity", "is required")
	}
	if !events.ValidEntity(entity) {
		return invalid("entity", "%q does not match ^[a-z][a-z0-9_]{0,62}$", truncate(entity, 64))
	}
	return nil
}

func (r *Router) stores(st flags.Stage) (primary, secondary stores.Reader, served, other flags.StoreSide) {
	if st.ServesTarget() {
		return r.target, r.legacy, flags.StoreTarget, flags.StoreLegacy
	}
	return r.legacy, r.target, flags.StoreLegacy, flags.StoreTarget
}

// Get reads one record of client. A tombstone, a missing key or a key of
// another client fails with an error matching stores.ErrNotFound; bad input
// with ErrInvalid. Errors of the serving store are returned as they are;
// those of the shadow read never are. The result names the stage and the
// store that answered, also on error.
func (r *Router) Get(ctx context.Context, client, entity, key string) (GetResult, error) {
	if err := validateRead(client, entity); err != nil {
		return GetResult{}, err
	}
	if key == "" {
		return GetResult{}, invalid("key", "is required")
	}
	if p := events.IdentifierProblem(key, events.MaxKeyBytes); p != "" {
		// Record keys are the application's data: the stores' identifier
		// rule applies, not the stricter one for client ids.
		return GetResult{}, invalid("key", "%s", p)
	}
	if r.closed.Load() {
		return GetResult{}, ErrClosed
	}
	st, evalErr := r.Stage(ctx, client)
	if evalErr != nil {
		r.log.Debug("read stage evaluation failed; using the fallback", "client", client, "err", evalErr)
	}
	primary, secondary, served, other := r.stores(st)
	var shadow *shadowRead[getOutcome]
	if st.Shadowed() {
		task := shadowTask{client: client, stage: st, entity: entity, primary: primary, secondary: secondary, served: served, other: other}
		shadow = startShadow(r, task, func(ctx context.Context) getOutcome {
			rec, err := r.timedGet(ctx, secondary, other, entity, key)
			return getOutcome{rec: rec, err: err}
		}, func(p, s getOutcome) (flags.ShadowResult, []keyDiff, []string) { return compareGet(key, p, s) })
	}
	sctx, cancel := r.storeContext(ctx)
	rec, err := r.timedGet(sctx, primary, served, entity, key)
	cancel()
	abandoned, err := r.abandoned(ctx, err)
	if shadow != nil {
		shadow.primaryDone(getOutcome{rec: rec, err: err}, abandoned)
	}
	found := err == nil && !rec.Deleted && rec.Client == client
	r.observe(client, flags.ReadObservation{Stage: st, Served: served, ServedErr: isFailure(err) && !abandoned, Found: found, Abandoned: abandoned})
	res := GetResult{Stage: st, Served: served}
	if err != nil {
		return res, err
	}
	if rec.Deleted {
		return res, fmt.Errorf("%s/%s: deleted: %w", entity, key, stores.ErrNotFound)
	}
	if rec.Client != client {
		// A key belongs to one client: never hand another client's record
		// to a caller who guessed its key.
		return res, fmt.Errorf("%s/%s: not a record of this client: %w", entity, key, stores.ErrNotFound)
	}
	res.Record = rec
	return res, nil
}

// List reads a page of client's live records of entity in key order,
// starting after the key after; limit defaults to 100, at most 1000.
// Tombstones are left out, so a page may hold fewer records than limit
// while Next is still set.
func (r *Router) List(ctx context.Context, client, entity, after string, limit int) (ListResult, error) {
	if err := validateRead(client, entity); err != nil {
		return ListResult{}, err
	}
	if len(after) > events.MaxKeyBytes {
		return ListResult{}, invalid("after", "is %d bytes, above the limit of %d", len(after), events.MaxKeyBytes)
	}
	switch {
	case limit == 0:
		limit = DefaultListLimit
	case limit < 0 || limit > MaxListLimit:
		return ListResult{}, invalid("limit", "%d is outside 1..%d", limit, MaxListLimit)
	}
	if r.closed.Load() {
		return ListResult{}, ErrClosed
	}
	st, evalErr := r.Stage(ctx, client)
	if evalErr != nil {
		r.log.Debug("read stage evaluation failed; using the fallback", "client", client, "err", evalErr)
	}
	primary, secondary, served, other := r.stores(st)
	rng := stores.Range{After: after, Limit: limit, Client: client}
	var shadow *shadowRead[listOutcome]
	if st.Shadowed() {
		task := shadowTask{client: client, stage: st, entity: entity, owner: client, primary: primary, secondary: secondary, served: served, other: other}
		shadow = startShadow(r, task, func(ctx context.Context) listOutcome {
			recs, err := r.timedScan(ctx, secondary, other, entity, rng)
			return listOutcome{recs: recs, err: err}
		}, func(p, s listOutcome) (flags.ShadowResult, []keyDiff, []string) { return compareList(limit, p, s) })
	}
	sctx, cancel := r.storeContext(ctx)
	recs, err := r.timedScan(sctx, primary, served, entity, rng)
	cancel()
	abandoned, err := r.abandoned(ctx, err)
	if shadow != nil {
		shadow.primaryDone(listOutcome{recs: recs, err: err}, abandoned)
	}
	found := err == nil && slices.ContainsFunc(recs, func(rec stores.Record) bool { return !rec.Deleted })
	r.observe(client, flags.ReadObservation{Stage: st, Served: served, ServedErr: isFailure(err) && !abandoned, Found: found, Abandoned: abandoned})
	res := ListResult{Stage: st, Served: served}
	if err != nil {
		return res, err
	}
	res.Records = make([]stores.Record, 0, len(recs))
	for _, rec := range recs {
		if !rec.Deleted {
			res.Records = append(res.Records, rec)
		}
	}
	if len(recs) == limit {
		res.Next = recs[len(recs)-1].Key
	}
	return res, nil
}

// isFailure reports whether a read error is a failure of the store rather
// than an answer (not found, no such entity).
func isFailure(err error) bool {
	return err != nil && !errors.Is(err, stores.ErrNotFound) && !errors.Is(err, stores.ErrNoEntity)
}

// storeContext derives the serving store's context from the caller's: it
// ends with the caller, or with errStoreBudget as cause after ReadTimeout.
func (r *Router) storeContext(caller context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(caller, r.readTimeout, errStoreBudget)
}

// abandoned reports whether a read failed because its caller went away
// (cancelled, or its own deadline passed) rather than because of the
// store; the error then matches the caller's context error, whatever the
// store made of the cancellation. A store that overran its own budget is
// not abandoned: its error matches ErrStoreTimeout.
func (r *Router) abandoned(caller context.Context, err error) (bool, error) {
	if !isFailure(err) || errors.Is(err, ErrStoreTimeout) || caller.Err() == nil {
		return false, err
	}
	if errors.Is(err, caller.Err()) {
		return true, err
	}
	return true, fmt.Errorf("read abandoned by its caller: %w (store: %w)", caller.Err(), err)
}

// storeError classifies a failed read made with ctx: an overrun of the
// store's own budget becomes ErrStoreTimeout; both it and any other store
// error are counted, while a read whose context ended for another reason
// (its caller went away, the router closed) is not.
func (r *Router) storeError(ctx context.Context, side flags.StoreSide, err error) error {
	if !isFailure(err) {
		return err
	}
	if ctx.Err() != nil {
		if !errors.Is(context.Cause(ctx), errStoreBudget) {
			return err
		}
		err = fmt.Errorf("%s store: %w: %w", side, ErrStoreTimeout, err)
	}
	r.metrics.readErrors.WithLabelValues(string(side)).Inc()
	return err
}

func (r *Router) timedGet(ctx context.Context, s stores.Reader, side flags.StoreSide, entity, key string) (stores.Record, error) {
	start := time.Now()
	rec, err := s.Get(ctx, entity, key)
	r.metrics.readSeconds.WithLabelValues(string(side)).Observe(time.Since(start).Seconds())
	return rec, r.storeError(ctx, side, err)
}

func (r *Router) timedScan(ctx context.Context, s stores.Reader, side flags.StoreSide, entity string, rng stores.Range) ([]stores.Record, error) {
	start := time.Now()
	recs, err := s.Scan(ctx, entity, rng)
	r.metrics.readSeconds.WithLabelValues(string(side)).Observe(time.Since(start).Seconds())
	return recs, r.storeError(ctx, side, err)
}

func (r *Router) observe(client string, o flags.ReadObservation) {
	for _, obs := range r.observers {
		obs.ObserveRead(client, o)
	}
	// Only the store's own failures move a rollback: a read its caller
	// abandoned is neither a failure nor a success.
	if r.rollback != nil && o.Served == flags.StoreTarget && !o.Abandoned {
		if reason, trip := r.rollback.observe(client, o.ServedErr, time.Now()); trip {
			r.startRollback(client, reason)
		}
	}
}

// track registers one background task; false once the router is closed.
func (r *Router) track() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed.Load() {
		return false
	}
	r.wg.Add(1)
	return true
}

func (r *Router) startRollback(client, reason string) {
	if !r.track() {
		r.rollback.done(client)
		return
	}
	go func() {
		defer r.wg.Done()
		defer r.rollback.done(client)
		ctx, cancel := context.WithTimeout(r.base, 30*time.Second)
		defer cancel()
		if err := r.rollback.cfg.Rollback(ctx, client, reason); err != nil {
			r.metrics.rollbacks.WithLabelValues("error").Inc()
			r.log.Error("automatic rollback to legacy failed", "client", client, "reason", reason, "err", err)
			return
		}
		r.metrics.rollbacks.WithLabelValues("ok").Inc()
		r.log.Warn("client rolled back to legacy automatically", "client", client, "reason", reason)
	}()
}

// Mismatches returns the most recent mismatching keys, newest first.
func (r *Router) Mismatches() []flags.MismatchSample { return r.samples.list() }

// Close stops shadow work in two stages: it refuses new reads, waits for
// running comparisons, repairs and rollbacks until ctx ends, then cancels
// them and waits for them to return.
func (r *Router) Close(ctx context.Context) error {
	r.mu.Lock()
	r.closed.Store(true)
	r.mu.Unlock()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		r.cancel()
		return nil
	case <-ctx.Done():
		r.cancel()
		<-done
		return ctx.Err()
	}
}
