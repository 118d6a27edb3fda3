package quickstart

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/reads"
	"github.com/switchyard/switchyard/stores"
)

// readDemo plays the application's reads: every client lists its tasks
// through the read router five times a second, so switching a client in the
// console visibly moves its reads to the other store, and the shadow
// stages feed the promotion gates.
type readDemo struct {
	api    *openfeature.EvaluationAPI
	router *reads.Router
	cp     *controlplane.ControlPlane
	mu     sync.Mutex
	last   map[string]readResult
	stop   context.CancelFunc
	done   chan struct{}
}

type readResult struct {
	stage  flags.Stage
	served flags.StoreSide
	rows   int
	err    error
}

func startReads(ctx context.Context, js jetstream.JetStream, cp *controlplane.ControlPlane, legacy, target stores.Store, reg prometheus.Registerer, cfg Config) (*readDemo, error) {
	provider := flags.NewProvider(js, flags.ProviderConfig{Logger: cfg.Log.With("component", "flags")})
	api := isolated.NewAPI()
	if err := api.SetProviderAndWait(ctx, provider); err != nil {
		return nil, err
	}
	cp.Shadow.Start()
	cp.Registry.Start()
	router, err := reads.NewRouter(reads.RouterConfig{
		Flags: api.NewClient(), Legacy: legacy, Target: target, Registerer: reg,
		Observers: []flags.ClientObserver{cp.Shadow, cp.Registry},
		Repair: func(ctx context.Context, entity string, keys []string) error {
			_, err := migrator.RepairKeys(ctx, legacy, target, entity, keys)
			return err
		},
		Logger: cfg.Log.With("component", "router"),
	})
	if err != nil {
		_ = api.Shutdown(ctx)
		return nil, err
	}
	loopCtx, stop := context.WithCancel(ctx)
	r := &readDemo{api: api, router: router, cp: cp, last: map[string]readResult{}, stop: stop, done: make(chan struct{})}
	go r.loop(loopCtx)
	return r, nil
}

func (r *readDemo) loop(ctx context.Context) {
	defer close(r.done)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, client := range DemoClients {
			res, err := r.router.List(ctx, client, TaskEntity, "", 50)
			if ctx.Err() != nil {
				return
			}
			r.mu.Lock()
			r.last[client] = readResult{stage: res.Stage, served: res.Served, rows: len(res.Records), err: err}
			r.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// snapshot returns the last read of every client.
func (r *readDemo) snapshot() map[string]readResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]readResult, len(r.last))
	for k, v := range r.last {
		out[k] = v
	}
	return out
}

// close stops the reads, then the router (its background comparisons
// finish), then flushes the shadow counters and the client registry.
func (r *readDemo) close() {
	r.stop()
	<-r.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.router.Close(ctx)
	_ = r.cp.Shadow.Close(ctx)
	_ = r.cp.Registry.Close(ctx)
	_ = r.api.Shutdown(ctx)
}
