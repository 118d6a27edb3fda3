package flags

import "context"

// AutoRollback moves client back to legacy with actor "auto-rollback" and
// the given reason; a client already on legacy is left alone. It never
// passes through the gates (rollbacks are not gated). It fits
// reads.AutoRollbackConfig.Rollback.
func (s *Store) AutoRollback(ctx context.Context, client, reason string) error {
	v, err := s.Client(ctx, client)
	if err != nil {
		return err
	}
	if v.Stage == StageLegacy {
		return nil
	}
	_, err = s.SetStage(ctx, Change{Client: client, Stage: StageLegacy, Reason: reason, Actor: ActorAutoRollback, ExpectedRevision: v.Revision})
	return err
}
