package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/internal/testenv"
)

// natsRoles are the users of nats/switchyard.conf that Switchyard
// processes run as; admin, for setup, is the other one.
var natsRoles = []string{"console", "flags_cli", "read_api", "read_api_autorollback", "worker", "backfill", "verify"}

func rolePassword(role string) string { return "pw-" + role + "-Zq9" }

// startRoleServer starts an embedded server with the shipped configuration.
func startRoleServer(t *testing.T) *testenv.NATSServer {
	t.Helper()
	for _, r := range append([]string{"admin"}, natsRoles...) {
		t.Setenv("SWITCHYARD_NATS_"+strings.ToUpper(r)+"_PASSWORD", rolePassword(r))
	}
	return testenv.NATSWithConfig(t, "nats/switchyard.conf")
}

// connectAs connects as role; the server's permission violations are
// collected in violations.
func connectAs(t *testing.T, srv *testenv.NATSServer, role string) (*nats.Conn, jetstream.JetStream) {
	nc, js, _ := connectWatching(t, srv, role)
	return nc, js
}

type violationLog struct {
	mu   sync.Mutex
	msgs []string
}

func (v *violationLog) has(subject string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, m := range v.msgs {
		if strings.Contains(m, "Permissions Violation") && strings.Contains(m, subject) {
			return true
		}
	}
	return false
}

func connectWatching(t *testing.T, srv *testenv.NATSServer, role string) (*nats.Conn, jetstream.JetStream, *violationLog) {
	t.Helper()
	var v violationLog
	nc, err := nats.Connect(srv.URL, nats.UserInfo(role, rolePassword(role)), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		v.mu.Lock()
		v.msgs = append(v.msgs, err.Error())
		v.mu.Unlock()
	}))
	if err != nil {
		t.Fatalf("connect as %s: %v", role, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js, &v
}

func shortCtx(t *testing.T) context.Context { return ctxFor(t, 3*time.Second) }

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestNATSRolesOnlyControlPlaneWritesStages: under the shipped
// configuration the console and flags CLI users change stages (through the
// real control plane), while worker, backfill, verify and read-api users can
// neither put to the flags bucket nor append to or remove the audit trail.
func TestNATSRolesOnlyControlPlaneWritesStages(t *testing.T) {
	srv := startRoleServer(t)

	// The console creates the control plane and changes a stage.
	_, consoleJS := connectAs(t, srv, "console")
	cp, err := controlplane.Open(shortCtx(t), consoleJS, controlplane.Config{})
	if err != nil {
		t.Fatalf("console opens the control plane: %v", err)
	}
	if _, err := cp.Flags.SetStage(shortCtx(t), flags.Change{Client: "acme", Stage: flags.StageShadow, Reason: "pilot", Actor: "nats:console@SWITCHYARD", ExpectedRevision: flags.AnyRevision}); err != nil {
		t.Fatalf("console sets a stage: %v", err)
	}
	if !cp.Audit.Protected() {
		t.Fatal("the audit stream made under the configuration is not protected")
	}
	flagsKV, err := consoleJS.KeyValue(shortCtx(t), flags.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	before, err := flagsKV.Get(shortCtx(t), "config")
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatal(err)
	}
	if _, err := flagsKV.Put(shortCtx(t), "client.Y29uc29sZQ", []byte(`{"stage":"legacy"}`)); err != nil {
		t.Fatalf("console puts to the flags bucket: %v", err)
	}

	// The flags CLI user too.
	_, cliJS := connectAs(t, srv, "flags_cli")
	cliKV, err := cliJS.KeyValue(shortCtx(t), flags.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cliKV.Put(shortCtx(t), "client.Y2xp", []byte(`{"stage":"legacy"}`)); err != nil {
		t.Fatalf("flags CLI puts to the flags bucket: %v", err)
	}

	// One group, so the parallel attempts all end before the checks below.
	t.Run("denied", func(t *testing.T) {
		for _, role := range []string{"worker", "backfill", "verify", "read_api"} {
			t.Run(role, func(t *testing.T) {
				t.Parallel()
				nc, js, violations := connectWatching(t, srv, role)
				// A direct put to the bucket, as a stolen worker credential would try.
				putSubject := "$KV." + flags.DefaultBucket + ".config"
				if _, err := js.Publish(ctxFor(t, time.Second), putSubject, []byte(`{"default":"target"}`)); err == nil {
					t.Errorf("%s put to the flags bucket", role)
				}
				if _, err := js.Publish(ctxFor(t, time.Second), "switchyard.audit.client.YWNtZQ", []byte(`{"actor":"viewer"}`)); err == nil {
					t.Errorf("%s appended a forged audit entry", role)
				}
				for _, api := range []string{"STREAM.PURGE.SWITCHYARD_AUDIT", "STREAM.DELETE.SWITCHYARD_AUDIT", "STREAM.MSG.DELETE.SWITCHYARD_AUDIT", "STREAM.DELETE.KV_switchyard_flags"} {
					if _, err := nc.Request("$JS.API."+api, []byte(`{"seq":1}`), 300*time.Millisecond); err == nil {
						t.Errorf("%s: $JS.API.%s answered", role, api)
					}
				}
				// The server refused them as permission violations (not some
				// other failure).
				if err := nc.Flush(); err != nil {
					t.Fatal(err)
				}
				for _, subject := range []string{putSubject, "switchyard.audit.client", "$JS.API.STREAM.PURGE.SWITCHYARD_AUDIT"} {
					if !violations.has(subject) {
						t.Errorf("%s: no permissions violation reported for %s", role, subject)
					}
				}
			})
		}
	})

	// Nothing the other roles sent changed a stage or the trail.
	after, err := flagsKV.Get(shortCtx(t), "config")
	if (before == nil) != (after == nil) || (after != nil && before.Revision() != after.Revision()) {
		t.Fatalf("the configuration changed under the denied roles: %v", err)
	}
	entries, err := cp.Audit.List(shortCtx(t), flags.AuditQuery{})
	if err != nil || len(entries) != 1 || entries[0].Actor != "nats:console@SWITCHYARD" {
		t.Fatalf("audit after the attempts: %+v, %v; want the console's one entry", entries, err)
	}
}

// TestNATSReadAPIRoleReadsStages: the read API's user opens the control
// plane made by the console (binding, not changing it) and reads stages,
// but its changes are refused.
func TestNATSReadAPIRoleReadsStages(t *testing.T) {
	srv := startRoleServer(t)
	_, consoleJS := connectAs(t, srv, "console")
	cp, err := controlplane.Open(shortCtx(t), consoleJS, controlplane.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.Flags.SetStage(shortCtx(t), flags.Change{Client: "acme", Stage: flags.StageShadow, Reason: "pilot", Actor: "nats:console", ExpectedRevision: flags.AnyRevision}); err != nil {
		t.Fatal(err)
	}
	_, readJS := connectAs(t, srv, "read_api")
	ro, err := controlplane.Open(shortCtx(t), readJS, controlplane.Config{})
	if err != nil {
		t.Fatalf("read_api opens the control plane: %v", err)
	}
	v, err := ro.Flags.Client(shortCtx(t), "acme")
	if err != nil || v.Stage != flags.StageShadow {
		t.Fatalf("read_api reads acme: %+v, %v", v, err)
	}
	if _, err := ro.Flags.SetStage(shortCtx(t), flags.Change{Client: "acme", Stage: flags.StageTarget, Reason: "x", Actor: "nats:read_api", ExpectedRevision: flags.AnyRevision, Force: true}); err == nil {
		t.Fatal("read_api changed a stage")
	}
}

// TestNATSRoleIdentity: the identity recorded for a change is the user the
// server authenticated, whatever the client claims.
func TestNATSRoleIdentity(t *testing.T) {
	srv := startRoleServer(t)
	for _, role := range []string{"flags_cli", "console", "worker"} {
		nc, _ := connectAs(t, srv, role)
		id, err := cli.Identity(shortCtx(t), nc, srv.URL)
		if want := fmt.Sprintf("nats:%s@SWITCHYARD", role); err != nil || id != want {
			t.Errorf("identity of %s: %q, %v; want %q", role, id, err, want)
		}
	}
}

// TestNATSAdminSetsUpButCannotRemoveTheTrail: the admin user creates the
// event stream and a durable consumer (what subs ensure does) and the
// control plane, but can neither purge nor delete the audit stream or the
// flag bucket.
func TestNATSAdminSetsUpButCannotRemoveTheTrail(t *testing.T) {
	srv := startRoleServer(t)
	nc, js, violations := connectWatching(t, srv, "admin")
	if _, err := js.CreateStream(shortCtx(t), jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"events.>"}}); err != nil {
		t.Fatalf("admin creates the event stream: %v", err)
	}
	if _, err := js.CreateOrUpdateConsumer(shortCtx(t), "EVENTS", jetstream.ConsumerConfig{Durable: "target", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatalf("admin creates a consumer: %v", err)
	}
	if _, err := controlplane.Open(shortCtx(t), js, controlplane.Config{}); err != nil {
		t.Fatalf("admin creates the control plane: %v", err)
	}
	for _, api := range []string{"STREAM.PURGE.SWITCHYARD_AUDIT", "STREAM.DELETE.SWITCHYARD_AUDIT", "STREAM.DELETE.KV_switchyard_flags"} {
		if _, err := nc.Request("$JS.API."+api, nil, 300*time.Millisecond); err == nil {
			t.Errorf("admin: $JS.API.%s answered", api)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if !violations.has("$JS.API.STREAM.DELETE.SWITCHYARD_AUDIT") {
		t.Error("admin: no permissions violation reported for deleting the audit stream")
	}
	if _, err := js.Stream(shortCtx(t), "SWITCHYARD_AUDIT"); err != nil {
		t.Fatalf("the audit stream is gone: %v", err)
	}
}
