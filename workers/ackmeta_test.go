package workers

import "testing"

func TestAckSequence(t *testing.T) {
	for _, c := range []struct {
		reply          string
		seq, delivered uint64
		ok             bool
	}{
		{"$JS.ACK.EVENTS.worker.3.1042.17.1733450000000000000.9", 1042, 3, true},
		{"$JS.ACK._.ACCHASH.EVENTS.worker.1.7.7.1733450000000000000.0", 7, 1, true},
		{"$JS.ACK.hub.ACCHASH.EVENTS.worker.2.18446744073709551.5.1733450000000000000.0.tok", 18446744073709551, 2, true},
		{"$JS.ACK.EVENTS.worker.x.1042.17.1.9", 0, 0, false},              // not a number
		{"$JS.ACK.EVENTS.worker.3..17.1.9", 0, 0, false},                  // empty
		{"$JS.ACK.EVENTS.worker.3.1042.17.1", 0, 0, false},                // 8 tokens
		{"$JS.ACK.a.b.EVENTS.worker.3.1042.17.1", 0, 0, false},            // 10 tokens
		{"$JS.ACK.a.b.EVENTS.worker.3.1042.17.1.0.tok.more", 0, 0, false}, // 13 tokens
		{"_INBOX.abc.EVENTS.worker.3.1042.17.1733450000000000000.9", 0, 0, false},
		{"", 0, 0, false},
	} {
		seq, delivered, ok := ackSequence(c.reply)
		if seq != c.seq || delivered != c.delivered || ok != c.ok {
			t.Errorf("ackSequence(%q) = %d, %d, %v; want %d, %d, %v", c.reply, seq, delivered, ok, c.seq, c.delivered, c.ok)
		}
	}
}
