package preflight

import (
	"context"

	"github.com/switchyard/switchyard/stores"
)

// Run checks NATS and every store of cfg and returns the report. It fails
// only on a configuration error (matching ErrConfig); everything it finds
// wrong with NATS or a store, unreachable ones included, is a failing row of
// the report. Stores are opened by DSN, so the caller must have registered
// their adapters (import stores/all).
func Run(ctx context.Context, cfg Config) (Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Report{}, err
	}
	var rep Report
	rep.Passed = true
	if cfg.NATS.URL != "" {
		rep.add(checkNATS(ctx, cfg.NATS)...)
	}
	for _, spec := range cfg.Stores {
		rep.add(checkStore(ctx, cfg, spec)...)
	}
	return rep, nil
}

// storeResults builds the rows of one store.
type storeResults struct {
	store string
	role  stores.Role
	out   []Result
}

func (r *storeResults) add(c stores.Check, scope string) {
	r.out = append(r.out, Result{Check: c.Name, Store: r.store, Role: string(r.role), Scope: scope, Status: c.Status, Detail: c.Detail})
}

func (r *storeResults) pass(name, scope, detail string) {
	r.add(stores.Check{Name: name, Status: stores.CheckPass, Detail: detail}, scope)
}

func (r *storeResults) warn(name, scope, detail string) {
	r.add(stores.Check{Name: name, Status: stores.CheckWarn, Detail: detail}, scope)
}

func (r *storeResults) fail(name, scope, detail string) {
	r.add(stores.Check{Name: name, Status: stores.CheckFail, Detail: detail}, scope)
}
