package preflight

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

// natsResults builds the rows of the broker.
type natsResults struct{ out []Result }

func (r *natsResults) add(status stores.CheckStatus, name, scope, detail string) {
	r.out = append(r.out, Result{Check: name, Store: "nats", Role: "broker", Scope: scope, Status: status, Detail: detail})
}

// checkNATS connects once, without reconnecting, and reads the account, the
// stream and the consumers. It creates nothing.
func checkNATS(ctx context.Context, cfg NATSConfig) []Result {
	r := &natsResults{}
	opts := append(slices.Clone(cfg.Options), nats.Timeout(cfg.ConnectTimeout), nats.NoReconnect(), nats.RetryOnFailedConnect(false))
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		r.add(stores.CheckFail, "connect", "", fmt.Sprintf("%s: %v", cli.RedactURL(cfg.URL), err))
		return r.out
	}
	defer nc.Close()
	r.add(stores.CheckPass, "connect", "", fmt.Sprintf("connected to %s (server %s, version %s)", nc.ConnectedUrlRedacted(), nc.ConnectedServerName(), nc.ConnectedServerVersion()))
	js, err := jetstream.New(nc)
	if err != nil {
		r.add(stores.CheckFail, "jetstream", "", err.Error())
		return r.out
	}
	actx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	account, err := js.AccountInfo(actx)
	if err != nil {
		detail := err.Error()
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			detail = "JetStream is not enabled for this account; the subscriptions need it: " + detail
		}
		r.add(stores.CheckFail, "jetstream", "", detail)
		return r.out
	}
	r.add(stores.CheckPass, "jetstream", "", fmt.Sprintf("enabled; the account holds %d streams and %d consumers", account.Streams, account.Consumers))

	stream, err := js.Stream(actx, cfg.Stream)
	if err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			r.add(stores.CheckFail, "stream", cfg.Stream, fmt.Sprintf("no stream named %s: name the application's event stream with --stream (switchyard subs ensure creates one where none exists)", cfg.Stream))
		} else {
			r.add(stores.CheckFail, "stream", cfg.Stream, err.Error())
		}
		return r.out
	}
	info := stream.CachedInfo()
	r.add(stores.CheckPass, "stream", cfg.Stream, fmt.Sprintf("subjects %s, %d events (sequences %d to %d), %s storage, %d replicas",
		strings.Join(info.Config.Subjects, " "), info.State.Msgs, info.State.FirstSeq, info.State.LastSeq, info.Config.Storage, max(info.Config.Replicas, 1)))
	checkRetention(r, cfg.Stream, info)
	want := events.SubjectFilter(cfg.SubjectPrefix)
	if covered(want, info.Config.Subjects) {
		r.add(stores.CheckPass, "stream_subjects", cfg.Stream, fmt.Sprintf("captures %s, where events are published", want))
	} else {
		r.add(stores.CheckFail, "stream_subjects", cfg.Stream, fmt.Sprintf("captures %s, not every subject under %s where events are published: set --subject-prefix, or add the subject to the stream",
			strings.Join(info.Config.Subjects, " "), want))
	}
	for _, name := range cfg.Consumers {
		checkConsumer(actx, r, stream, info, account, name)
	}
	dlq := subscriptions.DLQStreamName(cfg.Stream)
	if _, err := js.Stream(actx, dlq); err == nil {
		r.add(stores.CheckPass, "dead_letter_stream", dlq, "exists")
	} else if errors.Is(err, jetstream.ErrStreamNotFound) {
		r.add(stores.CheckPass, "dead_letter_stream", dlq, "does not exist yet; switchyard subs ensure (or worker --ensure) creates it")
	} else {
		r.add(stores.CheckFail, "dead_letter_stream", dlq, err.Error())
	}
	return r.out
}

// checkRetention says whether the stream keeps events for every durable
// consumer until it acknowledges them.
func checkRetention(r *natsResults, name string, info *jetstream.StreamInfo) {
	cfg := info.Config
	switch cfg.Retention {
	case jetstream.WorkQueuePolicy:
		r.add(stores.CheckFail, "stream_retention", name, "work-queue retention hands each event to one consumer only and deletes it on ack; the legacy and the target subscription each need every event: use limits or interest retention")
		return
	case jetstream.InterestPolicy:
		r.add(stores.CheckPass, "stream_retention", name, "interest: each event is kept until every consumer acknowledged it")
		return
	}
	var bounds []string
	if cfg.MaxAge > 0 {
		bounds = append(bounds, "events older than "+cfg.MaxAge.String())
	}
	if cfg.MaxMsgs > 0 {
		bounds = append(bounds, fmt.Sprintf("beyond %d events", cfg.MaxMsgs))
	}
	if cfg.MaxBytes > 0 {
		bounds = append(bounds, fmt.Sprintf("beyond %d bytes", cfg.MaxBytes))
	}
	if len(bounds) == 0 || cfg.Discard == jetstream.DiscardNew {
		r.add(stores.CheckPass, "stream_retention", name, "limits: events are kept whether or not they were acknowledged")
		return
	}
	r.add(stores.CheckPass, "stream_retention", name, "limits: events are discarded "+strings.Join(bounds, " or ")+
		" even when unacknowledged: a subscription that falls that far behind loses events, so size the limits for the longest outage")
}

// checkConsumer checks an existing consumer's shape, or that the consumer
// could be created.
func checkConsumer(ctx context.Context, r *natsResults, stream jetstream.Stream, info *jetstream.StreamInfo, account *jetstream.AccountInfo, name string) {
	c, err := stream.Consumer(ctx, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		switch {
		case info.Config.MaxConsumers > 0 && info.State.Consumers >= info.Config.MaxConsumers:
			r.add(stores.CheckFail, "consumer", name, fmt.Sprintf("does not exist and cannot be created: stream %s already has its maximum of %d consumers", info.Config.Name, info.Config.MaxConsumers))
		case account.Limits.MaxConsumers > 0 && account.Consumers >= account.Limits.MaxConsumers:
			r.add(stores.CheckFail, "consumer", name, fmt.Sprintf("does not exist and cannot be created: the account already has its maximum of %d consumers", account.Limits.MaxConsumers))
		default:
			r.add(stores.CheckPass, "consumer", name, "does not exist yet and can be created: switchyard subs ensure (or worker --ensure) creates it")
		}
		return
	}
	if err != nil {
		r.add(stores.CheckFail, "consumer", name, err.Error())
		return
	}
	ci := c.CachedInfo()
	cc := ci.Config
	var problems []string
	if cc.Durable == "" {
		problems = append(problems, "it is not durable")
	}
	if cc.DeliverSubject != "" {
		problems = append(problems, "it is a push consumer (workers pull)")
	}
	if cc.AckPolicy != jetstream.AckExplicitPolicy {
		problems = append(problems, fmt.Sprintf("its ack policy is %s, want explicit (ack after commit)", cc.AckPolicy))
	}
	filters := cc.FilterSubjects
	if cc.FilterSubject != "" {
		filters = append(filters, cc.FilterSubject)
	}
	for _, f := range filters {
		if !covered(f, info.Config.Subjects) {
			problems = append(problems, fmt.Sprintf("its filter %s is outside the stream's subjects", f))
		}
	}
	if len(problems) > 0 {
		r.add(stores.CheckFail, "consumer", name, "exists, but "+strings.Join(problems, "; ")+": delete and recreate it with switchyard subs ensure")
		return
	}
	filter := "every subject"
	if len(filters) > 0 {
		filter = strings.Join(filters, " ")
	}
	detail := fmt.Sprintf("exists: durable pull, explicit ack, filter %s, ack floor %d, %d pending", filter, ci.AckFloor.Stream, ci.NumPending)
	if ci.Paused {
		r.add(stores.CheckWarn, "consumer", name, detail+"; paused until "+ci.PauseRemaining.String()+" from now")
		return
	}
	r.add(stores.CheckPass, "consumer", name, detail)
}

// covered reports whether every subject matching filter is captured by the
// stream's subjects (NATS wildcards: * one token, > one or more). A filter
// ending in > is also covered when the subjects capture its one-token and
// its longer forms separately (events.* and events.*.> cover events.>).
func covered(filter string, streamSubjects []string) bool {
	return coveredDepth(filter, streamSubjects, 0)
}

// maxCoverDepth bounds the splitting of a trailing > into its forms.
const maxCoverDepth = 16

func coveredDepth(filter string, streamSubjects []string, depth int) bool {
	for _, s := range streamSubjects {
		if subsetOf(filter, s) {
			return true
		}
	}
	rest, ok := strings.CutSuffix(filter, ">")
	if !ok || depth >= maxCoverDepth {
		return false
	}
	return coveredDepth(rest+"*", streamSubjects, depth+1) && coveredDepth(rest+"*.>", streamSubjects, depth+1)
}

func subsetOf(filter, subject string) bool {
	f, s := strings.Split(filter, "."), strings.Split(subject, ".")
	for i, st := range s {
		if st == ">" {
			return len(f) > i
		}
		if i >= len(f) {
			return false
		}
		switch {
		case f[i] == ">":
			return false
		case st == "*":
			continue
		case f[i] == "*" || f[i] != st:
			return false
		}
	}
	return len(f) == len(s)
}
