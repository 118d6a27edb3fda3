package workers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/workers"
)

func TestConfigDefaultsValidate(t *testing.T) {
	cfg := workers.Config{Stream: "EVENTS", Consumer: "target"}.WithDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if cfg.BatchSize != 500 || cfg.Concurrency != 2 || cfg.Prefetch != 500 || cfg.Grace != 25*time.Second || cfg.SubjectPrefix != "events" || cfg.VersionSource != "stream" {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestConfigValidateNamesTheWrongField(t *testing.T) {
	base := func() workers.Config { return workers.Config{Stream: "EVENTS", Consumer: "target"} }
	cases := []struct {
		field string
		edit  func(*workers.Config)
	}{
		{"Stream", func(c *workers.Config) { c.Stream = "" }},
		{"Stream", func(c *workers.Config) { c.Stream = "EV.ENTS" }},
		{"Consumer", func(c *workers.Config) { c.Consumer = "tar get" }},
		{"SubjectPrefix", func(c *workers.Config) { c.SubjectPrefix = "events.*" }},
		{"VersionSource", func(c *workers.Config) { c.VersionSource = "clock" }},
		{"BatchSize", func(c *workers.Config) { c.BatchSize = -1 }},
		{"BatchSize", func(c *workers.Config) { c.BatchSize = workers.MaxBatchSize + 1 }},
		{"Concurrency", func(c *workers.Config) { c.Concurrency = -2 }},
		{"Prefetch", func(c *workers.Config) { c.Prefetch = -1 }},
		{"MaxEventBytes", func(c *workers.Config) { c.MaxEventBytes = -1 }},
		{"MaxDeliveries", func(c *workers.Config) { c.MaxDeliveries = -1 }},
		{"MaxWait", func(c *workers.Config) { c.MaxWait = -time.Second }},
		{"Grace", func(c *workers.Config) { c.Grace = -time.Second }},
		{"Backoff.Min", func(c *workers.Config) { c.Backoff.Min = -time.Second }},
		{"Backoff.Max", func(c *workers.Config) { c.Backoff.Min, c.Backoff.Max = time.Second, time.Millisecond }},
		{"Backoff.Jitter", func(c *workers.Config) { c.Backoff.Jitter = 2 }},
	}
	for _, tc := range cases {
		cfg := base()
		tc.edit(&cfg)
		err := cfg.WithDefaults().Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: Validate() = %v, want an error naming %s", tc.field, err, tc.field)
		}
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	b := workers.Backoff{Min: 100 * time.Millisecond, Max: time.Second, Jitter: -1}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.Delay(int64(i + 1)); got != w*time.Millisecond {
			t.Errorf("Delay(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	j := workers.Backoff{Min: time.Second, Max: time.Second, Jitter: 0.2}
	for range 100 {
		if d := j.Delay(1); d < 800*time.Millisecond || d > 1200*time.Millisecond {
			t.Fatalf("jittered delay %v outside ±20%% of 1s", d)
		}
	}
}
