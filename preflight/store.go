package preflight

import (
	"context"
	"fmt"

	"github.com/switchyard/switchyard/stores"
)

// checkStore opens one store in its role (stores.Adapters.OpenRole: a source writes
// nothing, not even bookkeeping tables) and runs, in its role, the adapter's cheap
// checks, then the source sample or the target self-test. The self-test
// runs only when the cheap checks passed: a target the credentials cannot
// write would fail every step for the same reason. The sample runs unless
// the store is unreachable.
func checkStore(ctx context.Context, cfg Config, spec StoreSpec) []Result {
	r := &storeResults{store: stores.Redact(spec.DSN), role: spec.Role}
	openCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	st, err := cfg.Adapters.OpenRole(openCtx, spec.DSN, spec.Role)
	cancel()
	if err != nil {
		// Unreachable, refused credentials, or an adapter that refuses the
		// store in this role at open, with its reason.
		r.fail("open", "", err.Error())
		return r.out
	}
	defer st.Close()

	checks := inspect(ctx, cfg, st, spec)
	unreachable, cheapFailed := false, false
	for _, c := range checks {
		r.add(c, "")
		cheapFailed = cheapFailed || c.Status == stores.CheckFail
		unreachable = unreachable || (isReachability(c.Name) && c.Status == stores.CheckFail)
	}
	switch spec.Role {
	case stores.RoleSource:
		// The sample only reads: it runs whatever else failed, unless the
		// store is unreachable, so one run reports every problem.
		if unreachable {
			r.fail("sample", "", "not run: the store is unreachable")
			break
		}
		sampleSource(ctx, cfg, st, r)
	case stores.RoleTarget:
		if cheapFailed {
			r.fail("selftest", "", "not run: the checks above failed")
			break
		}
		selfTest(ctx, cfg, st, r)
	}
	return r.out
}

// isReachability tells the check an adapter names for reaching its server.
func isReachability(name string) bool { return name == "connect" }

// inspect runs the adapter's cheap checks. An adapter without them fails
// the check "inspect": what cannot be checked is never passed silently.
func inspect(ctx context.Context, cfg Config, st stores.Store, spec StoreSpec) []stores.Check {
	in, ok := st.(stores.Inspector)
	if !ok {
		return []stores.Check{{Name: "inspect", Status: stores.CheckFail,
			Detail: fmt.Sprintf("the %s adapter implements no preflight checks (stores.Inspector)", stores.Scheme(spec.DSN))}}
	}
	inspectCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	return in.Inspect(inspectCtx, spec.Role)
}
