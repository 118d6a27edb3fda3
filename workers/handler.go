package workers

import "context"

// Handler processes one batch.
//
// Context: ctx is not cancelled when the worker starts draining; it is
// cancelled only when the grace period is over, so a handler should finish
// its batch promptly and return ctx.Err() once ctx is done.
//
// Ack contract: a handler never acknowledges messages itself. Returning nil
// means every message still Pending may be acknowledged (its write is
// committed); returning an error means none of them may be, and the worker
// negatively acknowledges them with a delay. Only the dead-letter
// middleware settles messages itself (after the dead-letter stream stored
// the copy), and it records that in the message's Disposition.
type Handler func(ctx context.Context, b *Batch) error

// Middleware wraps a Handler with a cross-cutting concern (retry, metrics,
// recovery, dead-lettering). It must keep the Handler contracts.
type Middleware func(Handler) Handler

// Chain wraps h with mws; the first middleware is the outermost.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}
