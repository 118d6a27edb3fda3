package gate

// Stage is a client's read stage: which store answers its reads and whether
// the other one is read too and compared.
type Stage string

const (
	// StageLegacy serves reads from the legacy store.
	StageLegacy Stage = "legacy"
	// StageShadow serves from legacy and compares with the target.
	StageShadow Stage = "shadow"
	// StageTarget serves reads from the target store.
	StageTarget Stage = "target"
	// StageTargetShadow serves from the target and compares with legacy.
	StageTargetShadow Stage = "target-shadow"
)

// Stages lists every stage in promotion order.
func Stages() []Stage { return []Stage{StageLegacy, StageShadow, StageTargetShadow, StageTarget} }

// StageNames lists every stage's name in promotion order, as messages that
// name the valid stages print them: "legacy, shadow, target-shadow, target".
const StageNames = "legacy, shadow, target-shadow, target"

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool {
	switch s {
	case StageLegacy, StageShadow, StageTarget, StageTargetShadow:
		return true
	}
	return false
}

// ServesTarget reports whether the stage answers reads from the target store.
func (s Stage) ServesTarget() bool { return s == StageTarget || s == StageTargetShadow }

// Shadowed reports whether the stage also reads the other store and compares.
func (s Stage) Shadowed() bool { return s == StageShadow || s == StageTargetShadow }

// ReadsLegacy reports whether the stage still serves reads from, or compares
// against, the legacy store, which then needs its subscription: every
// stage but target.
func (s Stage) ReadsLegacy() bool {
	return s == StageLegacy || s == StageShadow || s == StageTargetShadow
}

// Description says in words where reads go in stage s.
func (s Stage) Description() string {
	switch s {
	case StageLegacy:
		return "reads served by the legacy store"
	case StageShadow:
		return "reads served by the legacy store, compared with the target"
	case StageTargetShadow:
		return "reads served by the target store, compared with legacy"
	case StageTarget:
		return "reads served by the target store"
	}
	return "unknown stage"
}
