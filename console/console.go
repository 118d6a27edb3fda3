package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// Console is the support console's HTTP handler. Build it with New; it is
// safe for concurrent use.
type Console struct {
	flags    Flags
	status   StatusSource
	verifier Verifier
	users    *Users
	log      *slog.Logger
	opts     Options

	sessions *sessionStore
	logins   *loginGuard
	views    *views
	cookies  cookieNames

	handler http.Handler
}

// New builds the console from its dependencies. opts may be the zero
// value. It fails when Flags or Users are missing or an option is invalid.
func New(deps Deps, opts Options) (*Console, error) {
	if deps.Flags == nil {
		return nil, errors.New("console: Deps.Flags is required")
	}
	if deps.Users == nil {
		return nil, errors.New("console: Deps.Users is required")
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	log := deps.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	v, err := loadViews(opts.Now)
	if err != nil {
		return nil, err
	}
	c := &Console{
		flags:    deps.Flags,
		status:   deps.Status,
		verifier: deps.Verifier,
		users:    deps.Users,
		log:      log,
		opts:     opts,
		sessions: newSessionStore(opts.IdleTimeout, opts.SessionLifetime, opts.MaxSessions, opts.MaxSessionsPerUser, opts.Now),
		logins:   newLoginGuard(opts),
		views:    v,
		cookies:  newCookieNames(opts.InsecureCookies),
	}
	cop := http.NewCrossOriginProtection()
	for _, o := range opts.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("console: trusted origin %q: %w", o, err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusForbidden, "cross_origin", "cross-origin request refused: state changes must come from the console's own pages")
	}))
	c.handler = securityHeaders(cop.Handler(c.routes()))
	return c, nil
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

func (c *Console) routes() http.Handler {
	public := http.NewServeMux()
	public.HandleFunc("GET /healthz", handleHealth)
	public.Handle("GET /static/", c.views.static())
	public.HandleFunc("GET /login", c.handleLoginPage)
	public.HandleFunc("POST /login", c.handleLogin)

	private := http.NewServeMux()
	private.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/clients", http.StatusSeeOther)
	})
	private.HandleFunc("POST /logout", c.handleLogout)
	private.HandleFunc("GET /clients", c.handleClientsPage)
	private.HandleFunc("GET /clients/{id}", c.handleClientPage)
	private.HandleFunc("GET /audit", c.handleAuditPage)
	private.HandleFunc("GET /migration", c.handleMigrationPage)

	private.HandleFunc("GET /api/session", c.apiSession)
	private.HandleFunc("GET /api/clients", c.apiSearch)
	private.HandleFunc("GET /api/clients/{id}", c.apiClient)
	private.HandleFunc("GET /api/clients/{id}/history", c.apiHistory)
	private.Handle("POST /api/clients/{id}/stage", c.requireOperator(http.HandlerFunc(c.apiSetStage)))
	private.Handle("POST /api/clients/{id}/rollback", c.requireOperator(http.HandlerFunc(c.apiRollback)))
	private.Handle("POST /api/clients/{id}/clear", c.requireOperator(http.HandlerFunc(c.apiClear)))
	private.Handle("POST /api/clients/{id}/shadow-reset", c.requireOperator(http.HandlerFunc(c.apiResetShadow)))
	private.Handle("POST /api/clients/{id}/verify", c.requireOperator(http.HandlerFunc(c.apiVerifyClient)))
	private.HandleFunc("GET /api/audit", c.apiAudit)
	private.HandleFunc("GET /api/migration", c.apiMigration)
	private.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusNotFound, "not_found", "no such API endpoint: "+r.Method+" "+truncateForMessage(r.URL.Path))
	})
	private.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusNotFound, "not_found", "page not found")
	})

	public.Handle("/", c.requireSession(c.requireCSRF(private)))
	return limitBody(public)
}

func handleHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok\n")
}

// backend returns a context bounded by the backend timeout.
func (c *Console) backend(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), c.opts.BackendTimeout)
}
