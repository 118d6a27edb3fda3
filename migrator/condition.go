package migrator

import "github.com/switchyard/switchyard/internal/gate"

// Condition is one readiness condition of cleanup with its state: Name says
// what must hold ("backfill complete"), OK whether it holds, Detail what was
// found, with numbers. It is the control plane's one condition type
// (gate.Condition), shared with the flag store's promotion gates.
type Condition = gate.Condition
