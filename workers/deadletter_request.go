package workers

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/kinderr"
	"github.com/switchyard/switchyard/subscriptions"
)

// DefaultDeadLetterLimit is how many dead letters a list shows by default.
const DefaultDeadLetterLimit = 100

// ErrReplayRefused matches the error of a replay (DeadLetterRequest.Do)
// that replayed nothing because it cannot work as asked: the consumer or
// dead letter does not exist, or the error matches ErrReplayConfig.
var ErrReplayRefused = errors.New("replay refused")

// ErrReplayIncomplete matches the error of a replay (DeadLetterRequest.Do)
// that left dead letters it could not replay in the dead-letter stream.
var ErrReplayIncomplete = errors.New("replay incomplete")

// DeadLetterRequest is one thing an operator asks of a consumer's dead
// letters (switchyard dlq): list a page of them, show one, replay one or
// all (ReplayConfig, run by ReplayDeadLetters), or purge them all.
type DeadLetterRequest struct {
	ReplayConfig
	// Action is list, show, replay or purge.
	Action string
	// SeqGiven says Seq was given, so that zero is a mistake, not unset.
	SeqGiven bool
	// Limit (0: all) and After page a list: the dead letters above After.
	Limit int
	After uint64
	// Confirm must repeat the consumer's name for a purge.
	Confirm string
}

// Validate returns the first thing wrong with r, without contacting
// anything. Its errors match ErrReplayConfig.
func (r DeadLetterRequest) Validate() error {
	replay := r.Action == "replay"
	for _, c := range []struct {
		wrong bool
		why   string
	}{
		{r.Stream == "", "--stream is required"},
		{r.Consumer == "", "--consumer is required"},
		{r.Action == "show" && r.Seq == 0, "--seq is required"},
		{r.SeqGiven && r.Seq == 0, "--seq 0 is not a dead-letter sequence (they start at 1)"},
		{replay && !r.SeqGiven && !r.All, "give --seq N to replay one dead letter, or --all to replay every one"},
		{replay && r.SeqGiven && r.All, "give either --seq or --all, not both"},
		{r.Limit < 0, fmt.Sprintf("--limit %d must not be negative", r.Limit)},
		{r.Action == "purge" && r.Confirm != r.Consumer, fmt.Sprintf("this deletes every dead letter of %s unreplayed; pass --confirm=%s", r.Consumer, r.Consumer)},
	} {
		if c.wrong {
			return replayConfigErrorf(nil, "%s", c.why)
		}
	}
	if replay {
		return r.ReplayConfig.Validate()
	}
	return nil
}

// Do does r and writes what it found or did to w, as JSON when asJSON (a
// purge writes one line either way). A replay writes nothing when nothing
// happened; its errors may match ErrReplayRefused or ErrReplayIncomplete.
func (r DeadLetterRequest) Do(ctx context.Context, js jetstream.JetStream, w io.Writer, asJSON bool) error {
	switch r.Action {
	case "list":
		list, err := subscriptions.ListDeadLetters(ctx, js, r.Stream, r.Consumer, r.After, r.Limit)
		if err != nil {
			return err
		}
		return subscriptions.WriteDeadLetters(w, list, asJSON)
	case "show":
		dl, err := subscriptions.GetDeadLetter(ctx, js, r.Stream, r.Consumer, r.Seq)
		if err != nil {
			return err
		}
		return subscriptions.WriteDeadLetter(w, dl, asJSON)
	case "replay":
		return r.replay(ctx, js, w, asJSON)
	}
	n, err := subscriptions.PurgeDeadLetters(ctx, js, r.Stream, r.Consumer)
	if err == nil {
		fmt.Fprintf(w, "purged %d dead letters of %s on %s\n", n, r.Consumer, r.Stream)
	}
	return err
}

// replay replays and writes what was replayed, unless nothing happened.
func (r DeadLetterRequest) replay(ctx context.Context, js jetstream.JetStream, w io.Writer, asJSON bool) error {
	res, err := ReplayDeadLetters(ctx, js, r.ReplayConfig)
	switch nothing := res.Replayed == 0 && len(res.Failed) == 0; {
	case nothing && (errors.Is(err, subscriptions.ErrNotFound) || errors.Is(err, ErrReplayConfig)):
		return kinderr.Errorf(ErrReplayRefused, err, "%s", err)
	case nothing && err != nil:
		return err
	}
	if werr := res.Write(w, r.Consumer, r.SinkDSN, asJSON); err == nil && werr != nil {
		return werr
	}
	if err == nil && len(res.Failed) > 0 {
		return kinderr.Errorf(ErrReplayIncomplete, nil, "%d dead letters could not be replayed and stay in the dead-letter stream", len(res.Failed))
	}
	return err
}
