package workers_test

import (
	"errors"
	"testing"

	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/workers"
)

func TestDeadLetterRequestValidate(t *testing.T) {
	replay := workers.ReplayConfig{Stream: "EVENTS", Consumer: "c", SinkDSN: "sqlite:/tmp/x.db", Adapters: all.Adapters}.WithDefaults()
	named := workers.ReplayConfig{Stream: "EVENTS", Consumer: "c"}
	for _, tc := range []struct {
		name string
		req  workers.DeadLetterRequest
		want string // "" means valid
	}{
		{"list", workers.DeadLetterRequest{Action: "list", ReplayConfig: named}, ""},
		{"list without consumer", workers.DeadLetterRequest{Action: "list", ReplayConfig: workers.ReplayConfig{Stream: "EVENTS"}}, "--consumer is required"},
		{"negative limit", workers.DeadLetterRequest{Action: "list", ReplayConfig: named, Limit: -1}, "--limit -1 must not be negative"},
		{"show without seq", workers.DeadLetterRequest{Action: "show", ReplayConfig: named}, "--seq is required"},
		{"replay seq 0", workers.DeadLetterRequest{Action: "replay", ReplayConfig: replay, SeqGiven: true}, "--seq 0 is not a dead-letter sequence (they start at 1)"},
		{"replay nothing", workers.DeadLetterRequest{Action: "replay", ReplayConfig: replay}, "give --seq N to replay one dead letter, or --all to replay every one"},
		{"purge unconfirmed", workers.DeadLetterRequest{Action: "purge", ReplayConfig: named, Confirm: "d"}, "this deletes every dead letter of c unreplayed; pass --confirm=c"},
		{"purge confirmed", workers.DeadLetterRequest{Action: "purge", ReplayConfig: named, Confirm: "c"}, ""},
	} {
		err := tc.req.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tc.name, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want || !errors.Is(err, workers.ErrReplayConfig)):
			t.Errorf("%s: Validate() = %v, want %q matching ErrReplayConfig", tc.name, err, tc.want)
		}
	}
	every := workers.DeadLetterRequest{Action: "replay", ReplayConfig: replay}
	every.All = true
	if err := every.Validate(); err != nil {
		t.Errorf("replay --all: Validate() = %v, want nil", err)
	}
	every.SinkDSN = ""
	if err := every.Validate(); !errors.Is(err, workers.ErrReplayConfig) {
		t.Errorf("replay without sink: Validate() = %v, want ReplayConfig.Validate's error", err)
	}
}
