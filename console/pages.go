package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// searchResult is one page of the client search.
type searchResult struct {
	Query   string
	After   string // the cursor this page starts after; empty on the first
	Clients []ClientSummary
	// Next is the cursor of the following page; empty on the last.
	Next string
}

func (c *Console) search(r *http.Request) (searchResult, error) {
	q, err := validateQuery(r.URL.Query().Get("q"))
	if err != nil {
		return searchResult{}, err
	}
	after := r.URL.Query().Get("after")
	if after != "" {
		if err := ValidateClientID(after); err != nil {
			return searchResult{}, &InputError{Field: "after", Msg: "is not a client id: " + err.Error()}
		}
	}
	ctx, cancel := c.backend(r)
	defer cancel()
	res, err := c.flags.Search(ctx, q, PageRequest{After: after, Size: c.opts.PageSize})
	if err != nil {
		return searchResult{}, err
	}
	out := searchResult{Query: q, After: after, Clients: res.Clients}
	if res.More && len(res.Clients) > 0 {
		out.Next = res.Clients[len(res.Clients)-1].ID
	}
	return out, nil
}

// handleClientsPage is the client search.
func (c *Console) handleClientsPage(w http.ResponseWriter, r *http.Request) {
	res, err := c.search(r)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "clients", "Clients", "clients", res)
}

type clientPage struct {
	Client  ClientDetail
	History auditView
	// HistoryError is set when the history could not be read.
	HistoryError string
	// Changed is the stage just set, from the ?changed= flash parameter.
	Changed Stage
	// Done is the other action just taken (shadow-reset or verify), from
	// the ?done= flash parameter.
	Done   string
	Stages []Stage
	// Verify is the client's verify state; nil when the console cannot
	// verify. VerifyError says why it could not be read.
	Verify      *ClientVerify
	VerifyError string
}

// clientActions are the ?done= flash values of the client page.
var clientActions = map[string]bool{"shadow-reset": true, "verify": true}

// handleClientPage shows one client with its history and the actions.
func (c *Console) handleClientPage(w http.ResponseWriter, r *http.Request) {
	id, err := clientIDFrom(r)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	ctx, cancel := c.backend(r)
	defer cancel()
	d, err := c.flags.Client(ctx, id)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	p := clientPage{Client: d, Stages: Stages}
	if ch := Stage(r.URL.Query().Get("changed")); ch.Valid() {
		p.Changed = ch
	}
	if done := r.URL.Query().Get("done"); clientActions[done] {
		p.Done = done
	}
	p.Verify, p.VerifyError = c.clientVerify(ctx, id)
	es, err := c.flags.Audit(ctx, AuditQuery{ClientID: id, Limit: c.opts.AuditLimit})
	if err != nil {
		c.log.Warn("client history", "client", id, "err", err)
		p.HistoryError = err.Error()
	}
	p.History = c.auditView(es, 0)
	c.render(w, r, http.StatusOK, "client", "Client "+d.ID, "clients", p)
}

// auditView is one page of audit entries.
type auditView struct {
	Entries []AuditEntry
	// Before is the cursor this page starts before; 0 on the first page.
	Before uint64
	// Older is the cursor of the next (older) page; 0 on the last.
	Older uint64
}

func (c *Console) auditView(es []AuditEntry, before uint64) auditView {
	v := auditView{Entries: es, Before: before}
	if len(es) >= c.opts.AuditLimit && len(es) > 0 {
		v.Older = es[len(es)-1].Seq
	}
	return v
}

// auditPage reads the ?before= cursor and one page of the audit log.
func (c *Console) auditPage(r *http.Request) (auditView, error) {
	var before uint64
	if s := r.URL.Query().Get("before"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n == 0 {
			return auditView{}, &InputError{Field: "before", Msg: fmt.Sprintf("%q is not an audit sequence number", truncateForMessage(s))}
		}
		before = n
	}
	ctx, cancel := c.backend(r)
	defer cancel()
	es, err := c.flags.Audit(ctx, AuditQuery{Before: before, Limit: c.opts.AuditLimit})
	if err != nil {
		return auditView{}, err
	}
	return c.auditView(es, before), nil
}

// handleAuditPage shows the recent changes of all clients.
func (c *Console) handleAuditPage(w http.ResponseWriter, r *http.Request) {
	v, err := c.auditPage(r)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "audit", "Audit log", "audit", v)
}

type migrationPage struct {
	Status      *MigrationStatus
	Unavailable string
}

// handleMigrationPage shows the migrator's status, or why it is missing.
func (c *Console) handleMigrationPage(w http.ResponseWriter, r *http.Request) {
	st, err := c.migrationStatus(r)
	p := migrationPage{}
	if err != nil {
		p.Unavailable = err.Error()
	} else {
		p.Status = &st
	}
	c.render(w, r, http.StatusOK, "migration", "Migration", "migration", p)
}

var errNoStatusSource = errors.New("no migration status source is configured for this console")

func (c *Console) migrationStatus(r *http.Request) (MigrationStatus, error) {
	if c.status == nil {
		return MigrationStatus{}, errNoStatusSource
	}
	ctx, cancel := context.WithTimeout(r.Context(), min(c.opts.BackendTimeout, 5*time.Second))
	defer cancel()
	return c.status.MigrationStatus(ctx)
}
