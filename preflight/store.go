package preflight

import (
	"context"
	"fmt"

	"github.com/switchyard/switchyard/stores"
)

// checkStore opens one store and runs, in its role, the adapter's cheap
// checks, then the source sample or the target self-test. The self-test
// runs only when the cheap checks passed: a target the credentials cannot
// write would fail every step for the same reason.
func checkStore(ctx context.Context, cfg Config, spec StoreSpec) []Result {
	r := &storeResults{store: stores.Redact(spec.DSN), role: spec.Role}
	openCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	st, err := stores.Open(openCtx, spec.DSN)
	cancel()
	if err != nil {
		r.fail("connect", "", err.Error())
		return r.out
	}
	defer st.Close()

	in, ok := st.(stores.Inspector)
	if !ok {
		r.fail("inspect", "", fmt.Sprintf("the %s adapter implements no preflight checks (stores.Inspector)", stores.Scheme(spec.DSN)))
		return r.out
	}
	inspectCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	checks := in.Inspect(inspectCtx, spec.Role)
	cancel()
	cheapFailed := false
	for _, c := range checks {
		r.add(c, "")
		cheapFailed = cheapFailed || c.Status == stores.CheckFail
	}
	switch spec.Role {
	case stores.RoleSource:
		if cheapFailed {
			r.fail("sample", "", "not run: the checks above failed")
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
