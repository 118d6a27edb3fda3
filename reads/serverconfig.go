package reads

import (
	"time"

	"github.com/switchyard/switchyard/stores"
)

// Defaults of ServerConfig, also the read-api command's.
const (
	DefaultListen          = "127.0.0.1:8081"
	DefaultAccessReload    = 30 * time.Second
	DefaultHTTPReadTimeout = 10 * time.Second
	DefaultHTTPIdleTimeout = 2 * time.Minute
	DefaultShutdownGrace   = 10 * time.Second
)

// writeTimeoutMargin is added to RequestTimeout when HTTPWriteTimeout is
// left at zero, so a response can be written after a read that took all of
// its time.
const writeTimeoutMargin = 5 * time.Second

// ServerConfig configures a read API server (Open): its stores, listener,
// TLS and access file, and the router's settings. A wrong setting fails
// Validate with a *flags.InvalidError whose Field is the name of the
// read-api command's flag that sets it.
type ServerConfig struct {
	// Legacy and Target are the stores' DSNs; both required. They are
	// opened through Adapters (legacy in the source role, which writes
	// nothing); required.
	Legacy, Target string
	Adapters       stores.Adapters
	// Listen is the address to serve on; default DefaultListen (loopback).
	Listen string
	// AccessFile is the JSON file of the callers (ReadAccessFile); required:
	// the read API answers nobody without credentials. It is read again
	// every AccessReload.
	AccessFile   string
	AccessReload time.Duration
	// TLSCert and TLSKey serve HTTPS; ClientCA, with them, verifies client
	// certificates (mutual TLS).
	TLSCert, TLSKey, ClientCA string
	// HTTPReadTimeout bounds reading a whole request, HTTPWriteTimeout
	// writing a response (zero: RequestTimeout plus 5 s), HTTPIdleTimeout
	// an idle keep-alive connection.
	HTTPReadTimeout, HTTPWriteTimeout, HTTPIdleTimeout time.Duration
	// RequestTimeout is the router's ReadTimeout.
	RequestTimeout time.Duration
	// MaxInFlight bounds concurrent reads (ReadAPIConfig.MaxInFlight).
	MaxInFlight int
	// ShadowBudget, MaxShadowInFlight, MismatchSamples, SettleDelay and
	// SettleChecks are the router's settings of the same names.
	ShadowBudget      time.Duration
	MaxShadowInFlight int
	MismatchSamples   int
	SettleDelay       time.Duration
	SettleChecks      int
	// Repair re-copies a mismatching key from legacy to the target.
	Repair bool
	// AutoRollbackErrorRate, when above zero, rolls a client back to legacy
	// when that share of its target reads fail (AutoRollbackConfig).
	AutoRollbackErrorRate float64
	AutoRollbackMinReads  int64
	AutoRollbackWindow    time.Duration
	// ShutdownGrace is how long open requests and shadow reads may finish
	// at shutdown.
	ShutdownGrace time.Duration
}

// DefaultServerConfig returns the defaults; the stores and the access file
// are left for the caller to name.
func DefaultServerConfig() ServerConfig {
	return ServerConfig{
		Listen: DefaultListen, AccessReload: DefaultAccessReload,
		HTTPReadTimeout: DefaultHTTPReadTimeout, HTTPIdleTimeout: DefaultHTTPIdleTimeout,
		RequestTimeout: DefaultReadTimeout, MaxInFlight: DefaultMaxInFlight,
		ShadowBudget: DefaultShadowBudget, MaxShadowInFlight: DefaultMaxShadowInFlight, MismatchSamples: DefaultMismatchSamples,
		SettleDelay: DefaultSettleDelay, SettleChecks: DefaultSettleChecks,
		AutoRollbackMinReads: DefaultRollbackMinReads, AutoRollbackWindow: DefaultRollbackWindow,
		ShutdownGrace: DefaultShutdownGrace,
	}
}

// Validate checks the settings without touching files, the network or the
// stores; Open does that.
func (c ServerConfig) Validate() error {
	switch {
	case c.Legacy == "":
		return invalid("legacy", "is required (a store DSN such as sqlite:/data/legacy.db)")
	case c.Target == "":
		return invalid("target", "is required (a store DSN such as sqlserver://...)")
	case c.AutoRollbackErrorRate < 0 || c.AutoRollbackErrorRate > 1:
		return invalid("auto-rollback-error-rate", "%v is outside 0..1", c.AutoRollbackErrorRate)
	case c.AccessFile == "":
		return invalid("access-file", "is required: the read API answers nobody without credentials (see docs/read-router.md)")
	case c.HTTPWriteTimeout < 0:
		return invalid("http-write-timeout", "must not be negative")
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{
		{"shadow-budget", c.ShadowBudget}, {"request-timeout", c.RequestTimeout}, {"auto-rollback-window", c.AutoRollbackWindow},
		{"access-reload", c.AccessReload}, {"http-read-timeout", c.HTTPReadTimeout}, {"http-idle-timeout", c.HTTPIdleTimeout},
	} {
		if d.d <= 0 {
			return invalid(d.name, "%v must be positive", d.d)
		}
	}
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return invalid("tls-cert", "and --tls-key go together")
	case c.ClientCA != "" && c.TLSCert == "":
		return invalid("client-ca", "needs --tls-cert and --tls-key: mutual TLS runs over HTTPS")
	}
	for _, n := range []struct {
		name string
		n    int
	}{{"max-shadow-in-flight", c.MaxShadowInFlight}, {"max-in-flight", c.MaxInFlight}, {"mismatch-samples", c.MismatchSamples}} {
		if n.n < 1 {
			return invalid(n.name, "%d must be at least 1", n.n)
		}
	}
	return nil
}

// FlagBinder is what RegisterFlags binds flags with: a *flag.FlagSet, or
// the command's flag set, whose number flags parse more strictly (plain
// decimals only).
type FlagBinder interface {
	StringVar(p *string, name, value, usage string)
	BoolVar(p *bool, name string, value bool, usage string)
	IntVar(p *int, name string, value int, usage string)
	Int64Var(p *int64, name string, value int64, usage string)
	Float64Var(p *float64, name string, value float64, usage string)
	DurationVar(p *time.Duration, name string, value time.Duration, usage string)
}

// RegisterFlags binds the read-api command's flags to c; c's values (as
// DefaultServerConfig returns them) are the flags' defaults. The flags
// live with the configuration they set, so a setting and its flag, help
// and default are kept in one place.
func (c *ServerConfig) RegisterFlags(fs FlagBinder) {
	fs.StringVar(&c.Listen, "listen", c.Listen, "address to serve on; give :8081 to serve every interface")
	fs.StringVar(&c.AccessFile, "access-file", "", "JSON file of the callers, their tokens or certificate names, and the clients each may read (required)")
	fs.DurationVar(&c.AccessReload, "access-reload", c.AccessReload, "how often --access-file is read again (a mounted secret changes in place)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM certificate to serve HTTPS with (with --tls-key)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&c.ClientCA, "client-ca", "", "PEM CA bundle that signs client certificates; enables mutual TLS (needs --tls-cert)")
	fs.DurationVar(&c.HTTPReadTimeout, "http-read-timeout", c.HTTPReadTimeout, "longest the server waits to read a whole request")
	fs.DurationVar(&c.HTTPWriteTimeout, "http-write-timeout", 0, "longest the server takes to write a response (default: --request-timeout plus 5s)")
	fs.DurationVar(&c.HTTPIdleTimeout, "http-idle-timeout", c.HTTPIdleTimeout, "how long an idle keep-alive connection stays open")
	fs.StringVar(&c.Legacy, "legacy", "", "DSN of the legacy store (required; secrets as ${env:NAME} or ${file:PATH})")
	fs.StringVar(&c.Target, "target", "", "DSN of the target store (required)")
	fs.DurationVar(&c.ShadowBudget, "shadow-budget", c.ShadowBudget, "time a background shadow read may take before it counts as an error")
	fs.IntVar(&c.MaxShadowInFlight, "max-shadow-in-flight", c.MaxShadowInFlight, "concurrent shadow reads; beyond it shadow reads are dropped and counted")
	fs.IntVar(&c.MismatchSamples, "mismatch-samples", c.MismatchSamples, "recent mismatching keys kept for /v1/_mismatches")
	fs.DurationVar(&c.SettleDelay, "settle-delay", c.SettleDelay, "wait before a differing key is read again, so events in flight land first; --settle-checks times it should exceed the subscriptions' usual lag")
	fs.IntVar(&c.SettleChecks, "settle-checks", c.SettleChecks, "re-reads of a key that keeps changing before it counts as unsettled")
	fs.BoolVar(&c.Repair, "repair", false, "re-copy a mismatching key from legacy to the target after a shadow mismatch")
	fs.Float64Var(&c.AutoRollbackErrorRate, "auto-rollback-error-rate", 0, "roll a client back to legacy when this share (0..1) of its target reads fail; 0 disables")
	fs.Int64Var(&c.AutoRollbackMinReads, "auto-rollback-min-reads", c.AutoRollbackMinReads, "target reads in a window before the error rate counts")
	fs.DurationVar(&c.AutoRollbackWindow, "auto-rollback-window", c.AutoRollbackWindow, "window of the automatic rollback's error rate")
	fs.IntVar(&c.MaxInFlight, "max-in-flight", c.MaxInFlight, "concurrent reads; beyond it requests get 503 with Retry-After")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", c.RequestTimeout, "longest the serving store may take to answer one read; past it the read gets 504 and counts as a store failure")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", c.ShutdownGrace, "how long open requests and shadow reads may finish at shutdown")
}
