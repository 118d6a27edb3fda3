package reads_test

import (
	"errors"
	"flag"
	"testing"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/reads"
)

// Validate names the wrong setting by the read-api flag that sets it, as an
// *flags.InvalidError, and the defaults with the required parts are valid.
func TestServerConfigValidateNamesTheSetting(t *testing.T) {
	valid := reads.DefaultServerConfig()
	valid.Legacy, valid.Target, valid.AccessFile = "sqlite:l.db", "sqlite:t.db", "access.json"
	if err := valid.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for field, breakIt := range map[string]func(*reads.ServerConfig){
		"legacy":                   func(c *reads.ServerConfig) { c.Legacy = "" },
		"target":                   func(c *reads.ServerConfig) { c.Target = "" },
		"access-file":              func(c *reads.ServerConfig) { c.AccessFile = "" },
		"auto-rollback-error-rate": func(c *reads.ServerConfig) { c.AutoRollbackErrorRate = 1.5 },
		"shadow-budget":            func(c *reads.ServerConfig) { c.ShadowBudget = 0 },
		"http-write-timeout":       func(c *reads.ServerConfig) { c.HTTPWriteTimeout = -1 },
		"tls-cert":                 func(c *reads.ServerConfig) { c.TLSKey = "key.pem" },
		"client-ca":                func(c *reads.ServerConfig) { c.ClientCA = "ca.pem" },
		"max-in-flight":            func(c *reads.ServerConfig) { c.MaxInFlight = 0 },
	} {
		c := valid
		breakIt(&c)
		var ie *flags.InvalidError
		if err := c.Validate(); !errors.As(err, &ie) || ie.Field != field || !errors.Is(err, flags.ErrInvalid) {
			t.Errorf("%s: Validate() = %v, want an invalid %s", field, err, field)
		}
	}
}

// TestRegisterFlagsBindsTheConfig: each flag starts at the configuration's
// default and sets its field.
func TestRegisterFlagsBindsTheConfig(t *testing.T) {
	cfg := reads.DefaultServerConfig()
	fs := flag.NewFlagSet("read-api", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if got := fs.Lookup("settle-delay").DefValue; got != reads.DefaultSettleDelay.String() {
		t.Errorf("--settle-delay defaults to %s, want %s", got, reads.DefaultSettleDelay)
	}
	if err := fs.Parse([]string{"--listen", ":9", "--legacy", "sqlite:a.db", "--target", "sqlite:b.db", "--settle-checks", "7", "--repair"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != ":9" || cfg.Legacy != "sqlite:a.db" || cfg.Target != "sqlite:b.db" || cfg.SettleChecks != 7 || !cfg.Repair {
		t.Errorf("parsed into %+v", cfg)
	}
	if cfg.ShadowBudget != reads.DefaultShadowBudget || cfg.MaxInFlight != reads.DefaultMaxInFlight {
		t.Errorf("an unset flag changed its field: %+v", cfg)
	}
}
