package rethinkdb

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/stores"
)

// OpenStore is the stores.RoleOpener of RethinkDB ("rethinkdb" DSNs).
// It is its entry in the adapter table of stores/all.
func OpenStore(ctx context.Context, dsn string, role stores.Role) (stores.Store, error) {
	st, err := OpenRole(ctx, dsn, role)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Store is a stores.Store on RethinkDB. It is safe for concurrent use.
type Store struct {
	session r.QueryExecutor
	close   func() error
	cfg     Config
	tables  tableSet
	limits  queryLimits
}

var (
	_ stores.Store          = (*Store)(nil)
	_ stores.Inspector      = (*Store)(nil)
	_ stores.SourceSampler  = (*Store)(nil)
	_ stores.ScratchDropper = (*Store)(nil)
)

// Open parses dsn (see ParseDSN), connects with a pool of the configured
// size and prepares the store as New does, in the role the DSN names
// (role=source or role=target, default target). It fails with ErrBadDSN
// for a bad DSN and with an error matching stores.ErrTransient when no
// server answers.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenRole(ctx, dsn, "")
}

// OpenRole is Open in the given role; "" keeps the role the DSN names. A
// DSN that names another role than role fails with ErrBadDSN, so a source
// DSN can never be opened as a writer by mistake, or the reverse.
func OpenRole(ctx context.Context, dsn string, role stores.Role) (*Store, error) {
	parsed, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if role != "" {
		if named := parsed.Config.Role; named != role && namesRole(dsn) {
			return nil, fmt.Errorf("%w: role=%s, but the store is opened as %s", ErrBadDSN, named, role)
		}
		parsed.Config.Role = role
	}
	session, err := r.Connect(parsed.Connect)
	if err != nil {
		return nil, classify(fmt.Errorf("connect: %w", err))
	}
	st, err := New(ctx, session, func() error { return session.Close() }, parsed.Config)
	if err != nil {
		_ = session.Close() // the setup error is the one to report
		return nil, err
	}
	return st, nil
}

// New returns a store that runs its queries on session (a *r.Session, or
// an *r.Mock in tests) and calls closeFn from Close; closeFn may be nil.
//
// A writer (stores.RoleTarget, the default) creates the database, the
// ledger table and its index when they are missing, waiting at most
// Config.WaitTimeout for each to become ready; writers starting at once
// tolerate each other's creations. A source (stores.RoleSource) writes
// nothing: it checks that the database exists (ErrNoDatabase) and samples
// each table for documents that already hold a bookkeeping field the
// operator did not name (*CollisionError).
//
// It fails with ErrBadDSN for bad settings, stores.ErrSchemaMismatch for a
// ledger table keyed on another field, and a classified driver error
// otherwise.
func New(ctx context.Context, session r.QueryExecutor, closeFn func() error, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{session: session, close: closeFn, cfg: cfg, tables: tableSet{ready: map[string]bool{}}, limits: defaultLimits}
	if cfg.Role == stores.RoleSource {
		if err := s.checkSource(ctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	if err := s.ensureDatabase(ctx); err != nil {
		return nil, err
	}
	if err := s.ensureTable(ctx, ledgerTable, ledgerKey); err != nil {
		return nil, err
	}
	return s, nil
}

// namesRole reports whether a DSN sets the role parameter itself.
func namesRole(dsn string) bool {
	_, query, _ := strings.Cut(dsn, "?")
	q, err := url.ParseQuery(query)
	return err == nil && q.Has("role")
}

// runOpts makes every query cancellable through ctx and returns TIME,
// BINARY and GEOMETRY values raw, so the mapping (mapping.go) decides their
// JSON form rather than the driver.
func runOpts(ctx context.Context) r.RunOpts {
	return r.RunOpts{Context: ctx, TimeFormat: "raw", BinaryFormat: "raw", GeometryFormat: "raw"}
}

// exec runs a query and discards its result.
func (s *Store) exec(ctx context.Context, term r.Term) error {
	cur, err := term.Run(s.session, runOpts(ctx))
	if err != nil {
		return err
	}
	return cur.Close()
}

// readOne runs a query that returns a single value and decodes it.
func (s *Store) readOne(ctx context.Context, term r.Term, dest any) error {
	cur, err := term.Run(s.session, runOpts(ctx))
	if err != nil {
		return err
	}
	defer cur.Close()
	return cur.One(dest)
}

// readAll runs a query and decodes its whole result sequence.
func (s *Store) readAll(ctx context.Context, term r.Term) ([]any, error) {
	cur, err := term.Run(s.session, runOpts(ctx))
	if err != nil {
		return nil, err
	}
	defer cur.Close()
	var out []any
	if err := cur.All(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// write runs a write query and fails when the server reports per-document
// errors, quoting the first.
func (s *Store) write(ctx context.Context, term r.Term) (r.WriteResponse, error) {
	var res r.WriteResponse
	if err := s.readOne(ctx, term, &res); err != nil {
		return res, err
	}
	if res.Errors > 0 {
		return res, fmt.Errorf("%d document writes failed, the first with: %s", res.Errors, res.FirstError)
	}
	return res, nil
}

// Ping runs a trivial query; failures match stores.ErrTransient when they
// are connection errors.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.readOne(ctx, r.Expr(1), &one); err != nil {
		return classify(fmt.Errorf("ping: %w", err))
	}
	return nil
}

// PruneLedger deletes ledger ids recorded before cutoff with one query on
// the recorded_at index and returns how many it removed. A source has no
// ledger to prune: it fails with ErrReadOnly.
func (s *Store) PruneLedger(ctx context.Context, cutoff time.Time) (int64, error) {
	if s.cfg.Role == stores.RoleSource {
		return 0, fmt.Errorf("prune ledger: %w", ErrReadOnly)
	}
	term := r.DB(s.cfg.Database).Table(ledgerTable).
		Between(r.MinVal, cutoff.UTC(), r.BetweenOpts{Index: ledgerTimeField}).
		Delete(r.DeleteOpts{Durability: durability})
	res, err := s.write(ctx, term)
	if err != nil {
		return 0, classify(fmt.Errorf("prune ledger: %w", err))
	}
	return int64(res.Deleted), nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	if s.close == nil {
		return nil
	}
	return s.close()
}
