package quickstart

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/subscriptions"
)

// Config configures the quickstart. Zero values take the defaults named on
// each field.
type Config struct {
	// Dir holds everything the quickstart keeps: the broker's store, both
	// SQLite files. Default ".switchyard/dev".
	Dir string
	// NATSPort is the loopback port of the embedded broker, so other
	// switchyard commands (status, flags, dlq) can connect to it. Default
	// 14222.
	NATSPort int
	// ConsoleAddr is where the support console listens; default
	// "127.0.0.1:8080". "off" disables it.
	ConsoleAddr string
	// Rate is the producer's events per second; default 20.
	Rate int
	// TargetDelay is how long after the first start the target subscription
	// is created, so the backfill has a gap to fill; default 8 s.
	TargetDelay time.Duration
	// Out receives the live display (one block every Refresh); Log the
	// components' logs.
	Out     io.Writer
	Refresh time.Duration
	Log     *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Dir == "" {
		c.Dir = ".switchyard/dev"
	}
	if c.NATSPort == 0 {
		c.NATSPort = 14222
	}
	if c.ConsoleAddr == "" {
		c.ConsoleAddr = "127.0.0.1:8080"
	}
	if c.Rate == 0 {
		c.Rate = 20
	}
	if c.TargetDelay == 0 {
		c.TargetDelay = 8 * time.Second
	}
	if c.Refresh == 0 {
		c.Refresh = 2 * time.Second
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case c.NATSPort < 0 || c.NATSPort > 65535:
		return fmt.Errorf("NATS port %d is not between 1 and 65535", c.NATSPort)
	case c.Rate < 0 || c.Rate > 10_000:
		return fmt.Errorf("rate %d is not between 1 and 10000 events per second", c.Rate)
	case c.TargetDelay < 0:
		return fmt.Errorf("target delay %v is negative", c.TargetDelay)
	case c.Refresh < 0:
		return fmt.Errorf("refresh %v is negative", c.Refresh)
	}
	return nil
}

// Names used by the quickstart's stream, subscriptions and files.
const (
	Stream         = subscriptions.DefaultStream
	LegacyConsumer = migrator.DefaultLegacyConsumer
	TargetConsumer = migrator.DefaultTargetConsumer
	legacyFile     = "legacy.db"
	targetFile     = "target.db"
)
