package reads

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/stores"
)

// Response headers of the read API.
const (
	// HeaderServedBy names the store that answered: legacy or target.
	HeaderServedBy = "X-Switchyard-Served-By"
	// HeaderStage is the client's read stage.
	HeaderStage = "X-Switchyard-Stage"
)

// DefaultMaxInFlight bounds the read API's concurrent reads by default.
const DefaultMaxInFlight = 256

// ReadAPIConfig configures the HTTP read API.
type ReadAPIConfig struct {
	// Router serves the reads. Required. Its ReadTimeout bounds each
	// store read.
	Router *Router
	// Access authenticates every request. Required: the read API answers
	// nobody without credentials.
	Access AccessPolicy
	// MaxInFlight bounds concurrent reads; requests beyond it get 503 with
	// Retry-After instead of queueing without bound. Default 256.
	MaxInFlight int
	Logger      *slog.Logger
}

// readAPI is the HTTP face of a Router for applications written in other
// languages.
type readAPI struct {
	router *Router
	access AccessPolicy
	slots  chan struct{}
	log    *slog.Logger
}

// callerKey carries the authenticated *Caller in a request's context.
type callerKey struct{}

// NewReadAPI returns the read API handler:
//
//	GET /v1/{entity}/{key}?client=C            one record
//	GET /v1/{entity}?client=C&after=K&limit=N  a page of the client's records
//	GET /v1/_mismatches                        recent shadow mismatches (admin)
//
// Every request must authenticate (cfg.Access): without known credentials
// it gets 401 with WWW-Authenticate; a caller reading a client outside its
// scope, or an admin route without the admin scope, gets 403. Answers are
// JSON; the headers X-Switchyard-Served-By and X-Switchyard-Stage say
// which store served the read and why. Bad input gets 400 with
// {"error": ..., "field": ...}; a missing or deleted record 404; an
// overloaded API 503 with Retry-After; a store past its read timeout 504;
// a failing store 502 (503 when the failure is transient).
func NewReadAPI(cfg ReadAPIConfig) (http.Handler, error) {
	if cfg.Router == nil {
		return nil, invalid("router", "is required")
	}
	if cfg.Access == nil {
		return nil, invalid("access", "an access policy is required: the read API answers nobody without credentials")
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &readAPI{router: cfg.Router, access: cfg.Access, slots: make(chan struct{}, cfg.MaxInFlight), log: cfg.Logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/_mismatches", a.mismatches)
	mux.HandleFunc("GET /v1/{entity}/{key...}", a.limited(a.get))
	mux.HandleFunc("GET /v1/{entity}", a.limited(a.list))
	other := func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET")
			writeError(w, http.StatusMethodNotAllowed, "", "method "+r.Method+" is not allowed; the read API only reads")
			return
		}
		writeError(w, http.StatusNotFound, "", "no such endpoint: use GET /v1/{entity}/{key}?client=C or GET /v1/{entity}?client=C")
	}
	// Every other method on the read paths, and every other path, gets a
	// JSON error rather than the mux's plain text.
	mux.HandleFunc("/v1/{entity}/{key...}", other)
	mux.HandleFunc("/v1/{entity}", other)
	mux.HandleFunc("/", other)
	return a.authenticated(mux), nil
}

// authenticated answers 401 to every request without known credentials,
// before any routing, and hands the caller to the handlers.
func (a *readAPI) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := a.access.Authenticate(r)
		if err != nil {
			a.log.Debug("read API request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchyard-read-api"`)
			writeError(w, http.StatusUnauthorized, "", "authentication required: send \"Authorization: Bearer <token>\" or a client certificate")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	})
}

func callerOf(r *http.Request) *Caller {
	c, _ := r.Context().Value(callerKey{}).(*Caller)
	return c
}

// readableClient returns the request's client when it is given once, well
// formed, and the caller may read it. Otherwise it has answered: 400 for
// the parameter, 403 outside the caller's scope.
func (a *readAPI) readableClient(w http.ResponseWriter, r *http.Request) (string, bool) {
	client, err := clientParam(r)
	if err != nil {
		a.fail(w, r, err)
		return "", false
	}
	return client, a.mayRead(w, r, client)
}

// mayRead answers 403 unless the caller may read client.
func (a *readAPI) mayRead(w http.ResponseWriter, r *http.Request, client string) bool {
	c := callerOf(r)
	if c != nil && c.MayRead(client) {
		return true
	}
	name := ""
	if c != nil {
		name = c.Name
	}
	a.log.Info("read outside the caller's scope refused", "caller", name, "client", client)
	writeError(w, http.StatusForbidden, "client", "this caller may not read this client")
	return false
}

func (a *readAPI) mismatches(w http.ResponseWriter, r *http.Request) {
	if c := callerOf(r); c == nil || !c.Admin {
		writeError(w, http.StatusForbidden, "", "the mismatch list needs the admin scope")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Mismatches []flags.MismatchSample `json:"mismatches"`
	}{a.router.Mismatches()})
}

type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, field, msg string) {
	writeJSON(w, status, apiError{Error: msg, Field: field})
}

func (a *readAPI) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case a.slots <- struct{}{}:
			defer func() { <-a.slots }()
		default:
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "", "too many reads in flight; retry shortly")
			return
		}
		h(w, r)
	}
}

// clientParam returns the single client query parameter.
func clientParam(r *http.Request) (string, error) {
	vals := r.URL.Query()["client"]
	switch len(vals) {
	case 0:
		return "", invalid("client", "is required: add ?client=<client id>")
	case 1:
		return vals[0], flags.ValidateClient(vals[0])
	}
	return "", invalid("client", "is given %d times; give it once", len(vals))
}

type recordJSON struct {
	Entity    string          `json:"entity"`
	Key       string          `json:"key"`
	Client    string          `json:"client"`
	Version   int64           `json:"version"`
	UpdatedAt time.Time       `json:"updated_at,omitzero"`
	Data      json.RawMessage `json:"data"`
}

func toJSON(entity string, rec stores.Record) recordJSON {
	return recordJSON{Entity: entity, Key: rec.Key, Client: rec.Client, Version: rec.Version, UpdatedAt: rec.UpdatedAt, Data: rec.Data}
}

func (a *readAPI) get(w http.ResponseWriter, r *http.Request) {
	client, ok := a.readableClient(w, r)
	if !ok {
		return
	}
	entity, key := r.PathValue("entity"), r.PathValue("key")
	res, err := a.router.Get(r.Context(), client, entity, key)
	setRouteHeaders(w, res.Stage, res.Served)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toJSON(entity, res.Record))
}

func (a *readAPI) list(w http.ResponseWriter, r *http.Request) {
	client, ok := a.readableClient(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	limit := 0
	if s := q.Get("limit"); s != "" {
		var err error
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > MaxListLimit {
			a.fail(w, r, invalid("limit", "%q is not a number from 1 to %d", truncate(s, 32), MaxListLimit))
			return
		}
	}
	entity := r.PathValue("entity")
	res, err := a.router.List(r.Context(), client, entity, q.Get("after"), limit)
	setRouteHeaders(w, res.Stage, res.Served)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Records []recordJSON `json:"records"`
		Next    string       `json:"next,omitempty"`
	}{Records: make([]recordJSON, 0, len(res.Records)), Next: res.Next}
	for _, rec := range res.Records {
		out.Records = append(out.Records, toJSON(entity, rec))
	}
	writeJSON(w, http.StatusOK, out)
}

func setRouteHeaders(w http.ResponseWriter, st flags.Stage, served flags.StoreSide) {
	if st != "" {
		w.Header().Set(HeaderStage, string(st))
	}
	if served != "" {
		w.Header().Set(HeaderServedBy, string(served))
	}
}

func (a *readAPI) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ie *flags.InvalidError
	switch {
	case errors.As(err, &ie):
		writeError(w, http.StatusBadRequest, ie.Field, ie.Error())
	case errors.Is(err, stores.ErrNotFound), errors.Is(err, stores.ErrNoEntity):
		writeError(w, http.StatusNotFound, "", "record not found")
	case errors.Is(err, ErrClosed):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "", "shutting down")
	case errors.Is(err, ErrStoreTimeout):
		a.log.Warn("read timed out", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusGatewayTimeout, "", "the store did not answer in time")
	case r.Context().Err() != nil:
		// The caller went away; nobody reads the answer.
	case stores.IsTransient(err):
		a.log.Warn("read failed", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "", "the store is temporarily unavailable")
	default:
		a.log.Error("read failed", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusBadGateway, "", "the store failed to answer")
	}
}
