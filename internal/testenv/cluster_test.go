package testenv_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/testenv"
)

// TestClusterLeaderChange checks the cluster helper: an R3 stream keeps
// taking writes when its leader node is stopped, a new leader is elected
// among the two others, and the stopped node comes back on its store and
// catches up with what was written while it was away.
func TestClusterLeaderChange(t *testing.T) {
	t.Parallel()
	c := testenv.NewNATSCluster(t, 3)
	_, js := c.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "R3", Subjects: []string{"r3.>"}, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(st.CachedInfo().Cluster.Replicas); n != 2 {
		t.Fatalf("stream has %d replicas besides its leader, want 2", n)
	}
	publish := func(n int) {
		t.Helper()
		for i := range n {
			// A publish may fail during an election: retry it, with its
			// id so that it is stored once.
			testenv.Eventually(t, 30*time.Second, func() (bool, string) {
				_, err := js.Publish(ctx, "r3.x", []byte("m"), jetstream.WithMsgID(fmt.Sprint(t.Name(), i, n)))
				return err == nil, fmt.Sprint(err)
			}, "publish")
		}
	}
	publish(10)
	old := c.WaitStreamLeader("R3", nil, 30*time.Second)
	old.Shutdown()
	c.WaitStreamLeader("R3", old, 30*time.Second)
	publish(5)
	old.Start()
	c.WaitMetaLeader(30 * time.Second)
	c.WaitCurrent("R3", 30*time.Second)
	// The restarted node's own copy caught up with what was written
	// while it was away.
	if last, err := old.LastSeq("R3"); err != nil || last != 15 {
		t.Fatalf("restarted node %s: last sequence %d (%v), want 15", old.Name(), last, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 15 {
		t.Fatalf("stream holds %d messages, want 15", info.State.Msgs)
	}
	for _, p := range info.Cluster.Replicas {
		if !p.Current {
			t.Fatalf("replica %s is not current after the restart", p.Name)
		}
	}
}
