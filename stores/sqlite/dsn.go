package sqlite

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// config is what a DSN says.
type config struct {
	path        string
	busyTimeout time.Duration
	synchronous string
	readers     int
}

// parseDSN reads "sqlite:path" or "sqlite:///abs/path" with the query
// parameters listed in the package doc. It refuses in-memory databases: the
// writer and reader pools would each see a different empty database.
func parseDSN(dsn string) (config, error) {
	cfg := config{busyTimeout: 5 * time.Second, synchronous: "FULL", readers: 4}
	rest, ok := strings.CutPrefix(dsn, "sqlite:")
	if !ok {
		return cfg, fmt.Errorf("sqlite DSN must start with sqlite: (got %q)", dsn)
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	if r, ok := strings.CutPrefix(rest, "//"); ok {
		rest = r // sqlite:///abs/path -> /abs/path; sqlite://rel -> rel
	}
	path, err := url.PathUnescape(rest)
	if err != nil {
		return cfg, fmt.Errorf("sqlite DSN path %q: %w", rest, err)
	}
	if path == "" {
		return cfg, fmt.Errorf("sqlite DSN %q names no file", dsn)
	}
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return cfg, fmt.Errorf("sqlite DSN %q: name a database file (in-memory and URI databases are not supported)", dsn)
	}
	cfg.path = path
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return cfg, fmt.Errorf("sqlite DSN query: %w", err)
	}
	for name, values := range q {
		v := values[len(values)-1]
		switch name {
		case "busy_timeout":
			ms, err := strconv.Atoi(v)
			if err != nil || ms < 0 {
				return cfg, fmt.Errorf("sqlite DSN: busy_timeout=%q is not a number of milliseconds", v)
			}
			cfg.busyTimeout = time.Duration(ms) * time.Millisecond
		case "synchronous":
			switch s := strings.ToUpper(v); s {
			case "FULL", "NORMAL", "EXTRA":
				cfg.synchronous = s
			default:
				return cfg, fmt.Errorf("sqlite DSN: synchronous=%q must be FULL, NORMAL or EXTRA", v)
			}
		case "readers":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return cfg, fmt.Errorf("sqlite DSN: readers=%q must be a positive number", v)
			}
			cfg.readers = n
		default:
			return cfg, fmt.Errorf("sqlite DSN: unknown parameter %q (known: busy_timeout, synchronous, readers)", name)
		}
	}
	return cfg, nil
}

// driverDSN is the modernc.org/sqlite data source name for one pool.
func (c config) driverDSN(readOnly bool) string {
	q := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", c.busyTimeout.Milliseconds()),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(" + c.synchronous + ")",
		"_txlock=immediate",
	}
	if readOnly {
		q = append(q, "_pragma=query_only(1)")
	}
	return c.path + "?" + strings.Join(q, "&")
}

// sourceDSN is the data source name of a store opened as a source: query
// only, and without the journal-mode pragma, since switching a file to WAL
// is a write.
func (c config) sourceDSN() string {
	return c.path + "?" + strings.Join([]string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", c.busyTimeout.Milliseconds()),
		"_pragma=query_only(1)",
	}, "&")
}
