package migrator

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrConfig matches every *ConfigError.
var ErrConfig = errors.New("invalid migration configuration")

// ConfigError is a configuration that Validate refuses. Its message names
// the command and the flag that set the field, as an operator gave it.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// Is matches ErrConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

func configErrorf(format string, args ...any) error {
	return &ConfigError{Msg: fmt.Sprintf(format, args...)}
}

// Validate checks the settings an operator gives a backfill (not the
// connections, which the command opens afterwards), and returns the first
// problem as a *ConfigError.
func (c *BackfillConfig) Validate() error {
	switch {
	case c.ChunkRows < 1:
		return configErrorf("backfill: --chunk must be at least 1, got %d", c.ChunkRows)
	case c.BatchRows < 1:
		return configErrorf("backfill: --batch must be at least 1, got %d", c.BatchRows)
	case c.Copiers < 1 || c.Copiers > 64:
		return configErrorf("backfill: --copiers must be between 1 and 64, got %d", c.Copiers)
	case c.MaxRate < 0:
		return configErrorf("backfill: --max-rate must not be negative, got %d", c.MaxRate)
	case c.MaxLatency < 0 || c.AckWait < time.Second:
		return configErrorf("backfill: --max-latency must not be negative and --ack-wait must be at least 1s")
	case c.TargetConsumer == "":
		return configErrorf("backfill: --target-consumer is required")
	case c.LegacyConsumer == "" && !c.SkipWatermarkWait:
		return configErrorf("backfill: --legacy-consumer is required unless --no-watermark-wait")
	}
	return nil
}

// Validate checks the settings an operator gives a verify, and returns the
// first problem as a *ConfigError.
func (c *VerifyConfig) Validate() error {
	switch {
	case c.ChunkRows < 1:
		return configErrorf("verify: --chunk must be at least 1, got %d", c.ChunkRows)
	case c.MaxRate < 0:
		return configErrorf("verify: --max-rate must not be negative, got %d", c.MaxRate)
	case c.SettleTimeout <= 0:
		return configErrorf("verify: --settle-timeout must be positive, got %s", c.SettleTimeout)
	case c.TargetConsumer == "":
		return configErrorf("verify: --target-consumer is required")
	case c.FindingsFile == "":
		return configErrorf("verify: --out is required (a file for the findings)")
	case len(c.Client) > 255:
		return configErrorf("verify: --client is longer than 255 bytes")
	}
	return nil
}

// Validate checks the settings an operator gives a cleanup, and returns
// the first problem as a *ConfigError.
func (g *GatedCleanup) Validate() error {
	switch {
	case g.Config.LegacyConsumer == "":
		return configErrorf("cleanup: --legacy-consumer is required")
	case g.Config.MaxVerifyAge <= 0:
		return configErrorf("cleanup: --max-verify-age must be positive, got %s", g.Config.MaxVerifyAge)
	case g.Config.Force && strings.TrimSpace(g.Config.Reason) == "":
		return configErrorf("cleanup: --force requires --reason (it is recorded)")
	case g.Config.Force && g.CheckOnly:
		return configErrorf("cleanup: --force and --check exclude each other")
	}
	return nil
}
