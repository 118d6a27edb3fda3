package flags_test

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/testenv"
)

// TestAuditStreamRefusesDeletesAndPurges: the stream OpenAuditLog creates
// keeps every entry: deleting one or purging all is refused by the server.
func TestAuditStreamRefusesDeletesAndPurges(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	ctx := testenv.Context(t)
	audit, err := flags.OpenAuditLog(ctx, js, flags.AuditConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if !audit.Protected() || audit.Check() != nil {
		t.Fatalf("a new audit stream is not protected: %v", audit.Check())
	}
	seq, err := audit.Append(ctx, flags.AuditEntry{Scope: flags.ScopeClient, Client: "acme", Actor: "nats:ops", From: "legacy", To: "shadow", Reason: "pilot"})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "SWITCHYARD_AUDIT")
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.DeleteMsg(ctx, seq); err == nil {
		t.Error("deleting an audit entry succeeded")
	}
	if err := stream.SecureDeleteMsg(ctx, seq); err == nil {
		t.Error("erasing an audit entry succeeded")
	}
	if err := stream.Purge(ctx); err == nil {
		t.Error("purging the audit stream succeeded")
	}
	if list, err := audit.List(ctx, flags.AuditQuery{}); err != nil || len(list) != 1 {
		t.Fatalf("entries after the attempts: %v, %v; want the one entry", list, err)
	}
}

// TestExistingUnprotectedAuditStreamIsReportedThenProtectedOnRequest: an
// audit stream made before (without the settings) is reported, not
// changed, until Protect asks for it.
func TestExistingUnprotectedAuditStreamIsReportedThenProtectedOnRequest(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	ctx := testenv.Context(t)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "SWITCHYARD_AUDIT", Subjects: []string{"switchyard.audit.>"}}); err != nil {
		t.Fatal(err)
	}
	audit, err := flags.OpenAuditLog(ctx, js, flags.AuditConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if audit.Protected() || !errors.Is(audit.Check(), flags.ErrAuditUnprotected) {
		t.Fatalf("unprotected stream: Protected %v, Check %v", audit.Protected(), audit.Check())
	}
	info, err := js.Stream(ctx, "SWITCHYARD_AUDIT")
	if err != nil {
		t.Fatal(err)
	}
	if c := info.CachedInfo().Config; c.DenyDelete || c.DenyPurge {
		t.Fatal("opening without Protect changed the stream")
	}
	audit, err = flags.OpenAuditLog(ctx, js, flags.AuditConfig{Protect: true})
	if err != nil || !audit.Protected() {
		t.Fatalf("Protect: %v, protected %v", err, audit != nil && audit.Protected())
	}
	info, err = js.Stream(ctx, "SWITCHYARD_AUDIT")
	if err != nil {
		t.Fatal(err)
	}
	if c := info.CachedInfo().Config; !c.DenyDelete || !c.DenyPurge {
		t.Fatalf("after Protect: deny delete %v, deny purge %v", c.DenyDelete, c.DenyPurge)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"other.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := flags.OpenAuditLog(ctx, js, flags.AuditConfig{Stream: "OTHER"}); !errors.Is(err, flags.ErrInvalid) {
		t.Fatalf("a stream without the audit subjects: %v, want ErrInvalid", err)
	}
}
