package console_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/console/migrationstatus"
	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	_ "github.com/switchyard/switchyard/stores/sqlite"
)

// twoStores writes client's tasks into a legacy and a target SQLite store;
// the target lacks one of them.
func twoStores(t *testing.T, client string) (legacyDSN, targetDSN string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	legacyDSN, targetDSN = "sqlite:"+filepath.Join(dir, "legacy.db"), "sqlite:"+filepath.Join(dir, "target.db")
	for dsn, keys := range map[string][]string{legacyDSN: {"t-1", "t-2", "t-3"}, targetDSN: {"t-1", "t-2"}} {
		s, err := all.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		var ws []stores.Write
		for _, k := range keys {
			data, _ := json.Marshal(map[string]string{"title": k})
			ws = append(ws, stores.Write{Entity: "task", Key: k, Client: client, Version: 1, Data: data})
		}
		if _, err := s.Apply(ctx, ws); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	return legacyDSN, targetDSN
}

func TestBrowserOperatorClearsShadowAndVerifiesClient(t *testing.T) {
	browser := headlessChrome(t)
	legacyDSN, targetDSN := twoStores(t, "acme-dirty")
	env := startFlagEnvWith(t, func(ctx context.Context, js jetstream.JetStream, audit *flags.AuditLog, deps *console.Deps) {
		state, err := migrator.OpenState(ctx, js, migrator.DefaultBucket)
		if err != nil {
			t.Fatal(err)
		}
		v, stop, err := migrationstatus.OpenVerifier(ctx, migrationstatus.VerifierStores{LegacyDSN: legacyDSN, TargetDSN: targetDSN, Entities: []string{"task"}}, state, audit, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		deps.Verifier = v
	}, "acme-dirty")
	ctx := tab(t, browser)
	login(t, ctx, env.url, operatorName, operatorPassword)
	do(t, ctx, "open the client",
		chromedp.Navigate(env.url+"/clients/acme-dirty"),
		chromedp.WaitVisible(css("#shadow-reset-button")),
	)
	screenshot(t, ctx, "client-actions")
	if settled, unsettled := textOf(t, ctx, "#shadow-settled"), textOf(t, ctx, "#shadow-unsettled"); settled != "4" || unsettled != "2" {
		t.Errorf("settled %q and kept changing %q, want 4 and 2", settled, unsettled)
	}
	if facts := textOf(t, ctx, ".facts"); strings.Contains(facts, "not known") || !strings.Contains(strings.ToLower(facts), "last served\njust now") {
		t.Errorf("Last served is not filled in for a client a router served: %q", facts)
	}
	if last := textOf(t, ctx, "#verify-last"); !strings.Contains(last, "No verify") {
		t.Errorf("verify state before any verify: %q", last)
	}

	// Clear the shadow counters, with a reason.
	do(t, ctx, "review the reset",
		chromedp.Click(css("#shadow-reset-button")),
		chromedp.WaitVisible(css("#confirm-dialog")),
	)
	if summary := textOf(t, ctx, "#confirm-summary"); !strings.Contains(summary, "Clear the shadow read counters") || !strings.Contains(summary, "acme-dirty") {
		t.Errorf("reset summary %q", summary)
	}
	do(t, ctx, "clear the counters",
		chromedp.SendKeys(css("#confirm-reason"), "repaired the 3 keys in INC-77"),
		chromedp.Click(css("#confirm-submit")),
		chromedp.WaitVisible(css("#flash")),
	)
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		reads := currentText(ctx, "#shadow-mismatches")
		return reads == "0", "mismatches shown: " + reads
	}, "the page shows cleared counters")
	if history := textOf(t, ctx, "#history"); !strings.Contains(history, "repaired the 3 keys in INC-77") || !strings.Contains(history, "3 mismatched → 0 compared") {
		t.Errorf("the reset is not in the client's history: %q", history)
	}

	// Verify the client: the target lacks one of its rows.
	do(t, ctx, "start a verify",
		chromedp.Click(css("#verify-button")),
		chromedp.WaitVisible(css("#confirm-reason")),
		chromedp.SendKeys(css("#confirm-reason"), "check after the repair"),
		chromedp.Click(css("#confirm-submit")),
		chromedp.WaitVisible(css("#flash")),
	)
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		if err := chromedp.Do(ctx, chromedp.Navigate(env.url+"/clients/acme-dirty"), chromedp.WaitVisible(css("#verify-last"))); err != nil {
			return false, err.Error()
		}
		last := currentText(ctx, "#verify-last")
		return strings.Contains(last, "1 differences"), last
	}, "the verify's result on the client page")
	screenshot(t, ctx, "client-verified")
	if history := textOf(t, ctx, "#history"); !strings.Contains(history, "check after the repair") || !strings.Contains(history, "verify of task") {
		t.Errorf("the verify request is not in the client's history: %q", history)
	}
}
