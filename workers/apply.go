package workers

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyard/switchyard/stores"
)

// ApplyHandler is the innermost handler: it sends the writes of every live
// message of the batch to sink in one Apply call (one transaction) and
// records the result in b.Result. A batch without live messages does not
// reach the store.
//
// When the store rejects one write (*stores.RejectError), the handler marks
// that message poison (KindRejected) and returns the error, which still
// matches stores.ErrRejected; the dead-letter middleware then calls it again
// with the rest. Any other error is returned as the store reported it.
func ApplyHandler(sink stores.Writer) Handler {
	return func(ctx context.Context, b *Batch) error {
		b.writes, b.index = b.writes[:0], b.index[:0]
		for i := range b.Messages {
			if b.Messages[i].Live() {
				b.writes = append(b.writes, b.Messages[i].Write)
				b.index = append(b.index, i)
			}
		}
		b.Result = stores.ApplyResult{}
		if len(b.writes) == 0 {
			return nil
		}
		res, err := sink.Apply(ctx, b.writes)
		if err == nil {
			b.Result = res
			return nil
		}
		var rej *stores.RejectError
		if errors.As(err, &rej) {
			if rej.Index < 0 || rej.Index >= len(b.index) {
				// Not a reject this batch can act on: treat it as a store fault.
				return fmt.Errorf("store rejected write %d of a call with %d writes: %s", rej.Index, len(b.writes), rej.Reason)
			}
			b.Messages[b.index[rej.Index]].MarkPoison(KindRejected, err)
		}
		return err
	}
}

// setRejectsAside calls next, and while next fails because the store
// rejected one write (ApplyHandler marks that message poison), calls it
// again with the rest, so one bad write never blocks its batch. It returns
// next's last error. The worker's dead-letter middleware and dead-letter
// replay both apply through it.
func setRejectsAside(ctx context.Context, b *Batch, next Handler) error {
	before := b.poisonCount()
	err := next(ctx, b)
	for attempts := 0; err != nil && errors.Is(err, stores.ErrRejected) && attempts < len(b.Messages); attempts++ {
		now := b.poisonCount()
		if now == before {
			break // the rejection named no message: no progress possible
		}
		before = now
		err = next(ctx, b)
	}
	return err
}

// poisonCount counts the messages marked poison so far.
func (b *Batch) poisonCount() int {
	n := 0
	for i := range b.Messages {
		if b.Messages[i].Poison != nil {
			n++
		}
	}
	return n
}
