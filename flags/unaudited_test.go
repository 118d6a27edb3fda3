package flags_test

import (
	"testing"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/flagstest"
	"github.com/switchyard/switchyard/internal/testenv"
)

// TestUnauditedChangesFindsWritesPastTheStore: a stage written directly to
// the bucket (no audit entry) is reported with its revision; changes made
// through the store are not.
func TestUnauditedChangesFindsWritesPastTheStore(t *testing.T) {
	env := flagstest.NewStoreEnv(t)
	ctx := testenv.Context(t)
	res, err := env.Store.SetStage(ctx, flags.Change{Client: "acme", Stage: flags.StageShadow, Reason: "pilot", Actor: "nats:ops", ExpectedRevision: flags.AnyRevision})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := env.Store.UnauditedChanges(ctx, "acme"); err != nil || len(got) != 0 {
		t.Fatalf("after an audited change: %+v, %v; want none", got, err)
	}
	kv, err := env.JS.KeyValue(ctx, flags.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	// The override key of "acme" (base64url), written past Switchyard.
	rev, err := kv.Put(ctx, "client.YWNtZQ", []byte(`{"stage":"target","reason":"sneaky","actor":"someone"}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := env.Store.UnauditedChanges(ctx, "acme")
	if err != nil || len(got) != 1 || got[0].Revision != rev || got[0].Stage != flags.StageTarget || got[0].Operation != "put" || got[0].Revision == res.Revision {
		t.Fatalf("after a direct put: %+v, %v; want revision %d to target", got, err, rev)
	}
	if err := kv.Delete(ctx, "client.YWNtZQ"); err != nil {
		t.Fatal(err)
	}
	if got, err := env.Store.UnauditedChanges(ctx, "acme"); err != nil || len(got) != 2 || got[1].Operation != "delete" {
		t.Fatalf("after a direct delete: %+v, %v", got, err)
	}
	if got, err := env.Store.UnauditedChanges(ctx, "other"); err != nil || len(got) != 0 {
		t.Fatalf("a client never written: %+v, %v", got, err)
	}
}
