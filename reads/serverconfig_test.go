package reads_test

import (
	"errors"
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
