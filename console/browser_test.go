package console_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/console/flagsadapter"
	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/testenv"
)

// chromiumPath is where the Debian package chromium installs the browser;
// SWITCHYARD_CHROMIUM overrides it.
func chromiumPath() string {
	if p := os.Getenv("SWITCHYARD_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// requireChromium returns the browser's path. Without a browser the test
// fails when SWITCHYARD_REQUIRE_BROWSER=1 (as in CI) and skips otherwise,
// naming what is missing.
func requireChromium(t *testing.T) string {
	t.Helper()
	path := chromiumPath()
	if _, err := os.Stat(path); err != nil {
		msg := fmt.Sprintf("headless Chromium not found at %s (%v): install the Debian packages chromium and chromium-driver (.ci/install-browser.sh)", path, err)
		if os.Getenv("SWITCHYARD_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + "; SWITCHYARD_REQUIRE_BROWSER=1 makes this a failure")
		}
		t.Skip(msg + "; set SWITCHYARD_REQUIRE_BROWSER=1 to fail instead of skipping")
	}
	return path
}

// sharedChrome is the one Chromium the browser tests of this package
// share; each test works in its own browser context (see tab), so cookies
// never leak between tests. TestMain stops it.
var sharedChrome struct {
	once    sync.Once
	ctx     context.Context
	err     error
	stop    func()
	dataDir string
}

// headlessChrome returns a context to open isolated tabs from (see tab),
// starting the shared Chromium with a fresh profile on first use.
func headlessChrome(t *testing.T) context.Context {
	t.Helper()
	path := requireChromium(t)
	sharedChrome.once.Do(func() {
		dir, err := os.MkdirTemp("", "switchyard-console-chromium-")
		if err != nil {
			sharedChrome.err = err
			return
		}
		sharedChrome.dataDir = dir
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.UserDataDir(dir),
			chromedp.Flag("headless", true),
			chromedp.Flag("no-sandbox", true),
			chromedp.Flag("disable-gpu", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("no-first-run", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.WindowSize(1280, 900),
		)
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
		sharedChrome.ctx = browserCtx
		sharedChrome.stop = func() {
			cancelBrowser()
			cancelAlloc()
		}
		// Start the browser now, bound to a context without deadline, so
		// tabs can end on their own without ending the browser.
		sharedChrome.err = chromedp.Do(browserCtx)
	})
	if sharedChrome.err != nil {
		t.Fatalf("start Chromium at %s: %v", path, sharedChrome.err)
	}
	return sharedChrome.ctx
}

// TestMain stops the shared Chromium after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedChrome.stop != nil {
		sharedChrome.stop()
	}
	if sharedChrome.dataDir != "" {
		_ = os.RemoveAll(sharedChrome.dataDir)
	}
	os.Exit(code)
}

// tab opens a tab in a new browser context (its own cookies), bounded to
// two minutes. At the end it fails the test if a page in it raised a script
// exception, wrote a console error or caused a browser log error (among
// them Content-Security-Policy violations), except messages containing one
// of allowed (expected refusals).
func tab(t *testing.T, browser context.Context, allowed ...string) context.Context {
	t.Helper()
	ctx, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	var (
		mu   sync.Mutex
		msgs []string
		done = make(chan struct{})
	)
	messages := chromedp.Console(ctx)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleType("error") {
				mu.Lock()
				msgs = append(msgs, m.String())
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		<-done
		mu.Lock()
		defer mu.Unlock()
	next:
		for _, m := range msgs {
			for _, a := range allowed {
				if strings.Contains(m, a) {
					continue next
				}
			}
			t.Errorf("page error: %s", m)
		}
	})
	return ctx
}

// do runs steps in the tab and fails the test naming what failed.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// textOf returns the visible text of the element matching a CSS selector.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// currentText returns the rendered text of the first element matching sel
// right now, "" while the page being loaded has none: for polling across a
// navigation, where textOf would fail on the moment between two pages.
func currentText(ctx context.Context, sel string) string {
	js := fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, sel)
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

// textContentOf returns the text of the element as written in the page,
// before styles such as text-transform apply.
func textContentOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text content of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// eval evaluates a JavaScript expression in the page, awaiting promises.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// screenshot saves the page as PNG under $SWITCHYARD_SCREENSHOTS, if set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("SWITCHYARD_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// gateSource answers the promotion gates' migration questions: the
// backfill is complete and every client's verify is clean except those in
// dirty.
type gateSource struct{ dirty map[string]string }

func (g gateSource) BackfillComplete(context.Context) (bool, string, error) {
	return true, "all 3 entities copied", nil
}

func (g gateSource) ClientVerifyClean(_ context.Context, client string) (bool, string, error) {
	if d, ok := g.dirty[client]; ok {
		return false, d, nil
	}
	return true, "last verify found both stores equal", nil
}

// staticStatus is a migration status source with fixed figures.
type staticStatus struct{ st console.MigrationStatus }

func (s staticStatus) MigrationStatus(context.Context) (console.MigrationStatus, error) {
	return s.st, nil
}

// flagEnv is a real flag model on embedded NATS with the console on top
// and an OpenFeature provider following the bucket, as an application's
// read router would.
type flagEnv struct {
	store  *flags.Store
	url    string
	client *openfeature.Client
}

func startFlagEnv(t *testing.T, clients ...string) *flagEnv {
	t.Helper()
	return startFlagEnvWith(t, nil, clients...)
}

// startFlagEnvWith is startFlagEnv with a hook that may add to the
// console's dependencies (a verifier) before the console starts.
func startFlagEnvWith(t *testing.T, extra func(ctx context.Context, js jetstream.JetStream, audit *flags.AuditLog, deps *console.Deps), clients ...string) *flagEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, js := testenv.NATS(t).Connect()
	audit, err := flags.OpenAuditLog(ctx, js, flags.AuditConfig{})
	if err != nil {
		t.Fatal(err)
	}
	shadow, err := flags.OpenShadowStats(ctx, js, flags.ShadowStatsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	gates := flags.NewGates(flags.GatesConfig{
		Source:         gateSource{dirty: map[string]string{"acme-dirty": "3 mismatching keys in orders"}},
		Shadow:         shadow,
		MinShadowReads: 100,
	})
	registry, err := flags.OpenRegistry(ctx, js, flags.RegistryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := flags.OpenStore(ctx, js, flags.StoreConfig{Audit: audit, Gates: gates, Shadow: shadow, Registry: registry})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		if _, err := store.SetStage(ctx, flags.Change{Client: c, Stage: flags.StageShadow, Reason: "onboarded to shadow reads", Actor: "setup"}); err != nil {
			t.Fatalf("set up %s: %v", c, err)
		}
		// Enough reads, over enough keys and time, for the shadow gate.
		shadow.Record(c, flags.ShadowCounts{Matches: 250, Keys: 40, FirstCompared: time.Now().Add(-time.Hour), LastCompared: time.Now()})
	}
	shadow.Record("acme-dirty", flags.ShadowCounts{Matches: 180, Mismatches: 3, Errors: 1, Settled: 4, Unsettled: 2})
	if err := shadow.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// A read router served the first client: its page shows when.
	if len(clients) > 0 {
		registry.Mark(clients[0])
		if err := registry.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}

	deps := console.Deps{
		Flags: flagsadapter.New(store, shadow),
		Users: testUsers(t),
		Status: staticStatus{console.MigrationStatus{
			Phase: "switching",
			Subscriptions: []console.SubscriptionStatus{
				{Name: "legacy-rethinkdb", Lag: 0, Redeliveries: 2},
				{Name: "target-mssql", Lag: 14, Redeliveries: 5, DeadLetters: 1},
			},
			Backfill: []console.BackfillProgress{
				{Entity: "orders", Copied: 120000, Total: 120000, Complete: true},
				{Entity: "invoices", Copied: 41000, Total: 60000},
			},
			LastVerify:  &console.VerifyResult{At: time.Now().Add(-20 * time.Minute), Clean: true, Summary: "180000 keys compared"},
			CollectedAt: time.Now(),
		}},
	}
	if extra != nil {
		extra(ctx, js, audit, &deps)
	}
	c, err := console.New(deps, console.Options{InsecureCookies: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)

	api := isolated.NewAPI()
	if err := api.SetProviderAndWait(ctx, flags.NewProvider(js, flags.ProviderConfig{})); err != nil {
		t.Fatalf("OpenFeature provider: %v", err)
	}
	t.Cleanup(func() { _ = api.Shutdown(context.Background()) })
	return &flagEnv{store: store, url: srv.URL, client: api.NewClient()}
}

// evaluated is the stage the running provider serves for client.
func (e *flagEnv) evaluated(client string) string {
	return e.client.String(context.Background(), flags.FlagKey, "unknown", openfeature.NewEvaluationContext(client, nil))
}

func login(t *testing.T, ctx context.Context, base, user, password string) {
	t.Helper()
	do(t, ctx, "log in as "+user,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(css("#username")),
		chromedp.SendKeys(css("#username"), user),
		chromedp.SendKeys(css("#password"), password),
		chromedp.Click(css("#login-submit")),
		chromedp.WaitVisible(css("#current-user")),
	)
}

func TestBrowserOperatorSwitchesAndRollsBack(t *testing.T) {
	browser := headlessChrome(t)
	env := startFlagEnv(t, "acme-001", "acme-002", "acme-003", "globex-1")
	if got := env.evaluated("acme-002"); got != "shadow" {
		t.Fatalf("provider serves %q for acme-002 before the switch, want shadow", got)
	}
	ctx := tab(t, browser)

	// Opening a client first leads to the login page, then back.
	do(t, ctx, "open the login page",
		chromedp.Navigate(env.url+"/clients/acme-002"),
		chromedp.WaitVisible(css("#login-form")),
	)
	screenshot(t, ctx, "login")
	do(t, ctx, "log in",
		chromedp.SendKeys(css("#username"), operatorName),
		chromedp.SendKeys(css("#password"), operatorPassword),
		chromedp.Click(css("#login-submit")),
		chromedp.WaitVisible(css("#client-id")),
	)
	if role := textContentOf(t, ctx, "#current-role"); role != "operator" {
		t.Fatalf("role shown %q, want operator", role)
	}
	do(t, ctx, "search",
		chromedp.Navigate(env.url+"/clients"),
		chromedp.WaitVisible(css("#search-q")),
		chromedp.SendKeys(css("#search-q"), "ACME"),
		chromedp.Click(css("#search-submit")),
		chromedp.WaitVisible(css("#open-exact")),
	)
	if rows := eval[int](t, ctx, `document.querySelectorAll("#client-table tbody tr").length`); rows != 3 {
		t.Fatalf("%d search results for ACME, want 3", rows)
	}
	screenshot(t, ctx, "clients")
	do(t, ctx, "open the client",
		chromedp.Click(css(`a.client-link[href="/clients/acme-002"]`)),
		chromedp.WaitVisible(css("#switch-form")),
	)

	// Switch to target: the dialog names the change and insists on a reason.
	do(t, ctx, "review the switch",
		chromedp.SetValue(css("#switch-to"), "target"),
		chromedp.Click(css("#switch-button")),
		chromedp.WaitVisible(css("#confirm-dialog")),
	)
	if summary := textOf(t, ctx, "#confirm-summary"); !strings.Contains(summary, "acme-002") || !strings.Contains(summary, "from shadow to target") {
		t.Errorf("confirmation summary %q", summary)
	}
	do(t, ctx, "confirm without a reason",
		chromedp.Click(css("#confirm-submit")),
		chromedp.WaitVisible(css("#confirm-error")),
	)
	if msg := textOf(t, ctx, "#confirm-error"); !strings.Contains(msg, "reason is required") {
		t.Errorf("empty reason message %q", msg)
	}
	if got := env.evaluated("acme-002"); got != "shadow" {
		t.Fatalf("switched without a reason: provider serves %q", got)
	}
	do(t, ctx, "give a reason", chromedp.SendKeys(css("#confirm-reason"), "INC-4711 pilot client ready for target"))
	screenshot(t, ctx, "confirm")
	do(t, ctx, "confirm the switch",
		chromedp.Click(css("#confirm-submit")),
		chromedp.WaitVisible(css("#flash")),
	)
	screenshot(t, ctx, "client")
	stage, history := textOf(t, ctx, "#client-stage"), textOf(t, ctx, "#history")
	if stage != "target" || !strings.Contains(history, "INC-4711 pilot client ready for target") || !strings.Contains(history, operatorName) {
		t.Fatalf("after the switch: stage %q, history %q", stage, history)
	}
	// The running provider, as a read router uses it, serves the change.
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		got := env.evaluated("acme-002")
		return got == "target", got
	}, "provider picks up the switch to target")

	// The audit log shows who, when, from, to and why.
	do(t, ctx, "open the audit log",
		chromedp.Click(css(`nav a[href="/audit"]`)),
		chromedp.WaitVisible(css("#audit-table")),
	)
	screenshot(t, ctx, "audit")
	row := textOf(t, ctx, "#audit-table tbody tr:first-child")
	for _, want := range []string{operatorName, "acme-002", "shadow", "target", "INC-4711", time.Now().UTC().Format("2006-01-02")} {
		if !strings.Contains(row, want) {
			t.Errorf("audit row %q lacks %q", row, want)
		}
	}

	// One click back to legacy, with a reason.
	do(t, ctx, "roll back",
		chromedp.Navigate(env.url+"/clients/acme-002"),
		chromedp.Click(css("#rollback-button")),
		chromedp.WaitVisible(css("#confirm-reason")),
		chromedp.SendKeys(css("#confirm-reason"), "customer reports missing invoices"),
		chromedp.Click(css("#confirm-submit")),
		chromedp.WaitVisible(css("#flash")),
	)
	// The flash of the switch may still be on screen: poll for the page the
	// rollback renders.
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		stage := currentText(ctx, "#client-stage")
		return stage == "legacy", stage
	}, "the client page shows legacy after the rollback")
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		got := env.evaluated("acme-002")
		return got == "legacy", got
	}, "provider picks up the rollback")

	// The rollback pinned legacy for this client; return it to the default.
	do(t, ctx, "follow the default again",
		chromedp.Click(css("#clear-button")),
		chromedp.WaitVisible(css("#confirm-reason")),
		chromedp.SendKeys(css("#confirm-reason"), "incident closed"),
		chromedp.Click(css("#confirm-submit")),
		chromedp.WaitVisible(css("#flash")),
	)
	// The flash of the rollback may still be on screen: poll for the page
	// the clear action renders.
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		src := currentText(ctx, "#stage-source")
		return strings.Contains(src, "default") && !strings.Contains(src, "set by"), src
	}, "the client page shows the default as the stage's source after clearing the override")
	if n := eval[int](t, ctx, `document.querySelectorAll("#clear-button").length`); n != 0 {
		t.Fatalf("clear button still shown without an override")
	}

	do(t, ctx, "open the migration page",
		chromedp.Click(css(`nav a[href="/migration"]`)),
		chromedp.WaitVisible(css("#migration-phase")),
	)
	screenshot(t, ctx, "migration")
	migration := textOf(t, ctx, "#migration")
	for _, want := range []string{"switching", "target-mssql", "invoices", "68%", "clean"} {
		if !strings.Contains(migration, want) {
			t.Errorf("migration page lacks %q: %s", want, migration)
		}
	}
	do(t, ctx, "log out",
		chromedp.Click(css("#logout")),
		chromedp.WaitVisible(css("#login-form")),
		chromedp.Navigate(env.url+"/clients"),
		chromedp.WaitVisible(css("#login-form")),
	)
}

func TestBrowserGateRefusalThenForcedSwitch(t *testing.T) {
	browser := headlessChrome(t)
	env := startFlagEnv(t, "acme-dirty")
	ctx := tab(t, browser, "status of 409") // the browser logs the refused request

	login(t, ctx, env.url, operatorName, operatorPassword)
	do(t, ctx, "open the client",
		chromedp.Navigate(env.url+"/clients/acme-dirty"),
		chromedp.WaitVisible(css("#gates-state")),
	)
	if gates := textOf(t, ctx, "#gates"); !strings.Contains(gates, "verify-clean") || !strings.Contains(gates, "3 mismatching keys in orders") {
		t.Errorf("gate panel %q does not name the failing verify", gates)
	}
	do(t, ctx, "try the switch without forcing",
		chromedp.SetValue(css("#switch-to"), "target"),
		chromedp.Click(css("#switch-button")),
		chromedp.WaitVisible(css("#confirm-gates")),
		chromedp.SendKeys(css("#confirm-reason"), "verified by hand in INC-12"),
		chromedp.Click(css("#confirm-submit")),
		chromedp.WaitVisible(css("#confirm-error")),
	)
	screenshot(t, ctx, "gate-refused")
	if refusal := textOf(t, ctx, "#confirm-gates"); !strings.Contains(refusal, "verify-clean") {
		t.Errorf("refusal %q does not name the gate", refusal)
	}
	if eval[bool](t, ctx, `document.getElementById("confirm-force-row").hidden`) {
		t.Fatal("the override option is hidden after a gate refusal")
	}
	if got := env.evaluated("acme-dirty"); got != "shadow" {
		t.Fatalf("refused switch changed the served stage to %q", got)
	}
	do(t, ctx, "force the switch",
		chromedp.Click(css("#confirm-force")),
		chromedp.Click(css("#confirm-submit")),
		chromedp.WaitVisible(css("#flash")),
	)
	if stage := textOf(t, ctx, "#client-stage"); stage != "target" {
		t.Fatalf("after forcing the page shows %q", stage)
	}
	do(t, ctx, "open the audit log",
		chromedp.Navigate(env.url+"/audit"),
		chromedp.WaitVisible(css("#audit-table")),
	)
	if row := textOf(t, ctx, "#audit-table tbody tr:first-child"); !strings.Contains(row, "forced") || !strings.Contains(row, "verified by hand in INC-12") {
		t.Fatalf("audit row of the forced switch: %q", row)
	}
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		got := env.evaluated("acme-dirty")
		return got == "target", got
	}, "provider picks up the forced switch")
}

func TestBrowserViewerCannotSwitch(t *testing.T) {
	browser := headlessChrome(t)
	env := startFlagEnv(t, "acme-001")
	ctx := tab(t, browser, "status of 403") // the browser logs the refused API call

	login(t, ctx, env.url, viewerName, viewerPassword)
	if role := textContentOf(t, ctx, "#current-role"); role != "viewer" {
		t.Fatalf("role shown %q, want viewer", role)
	}
	do(t, ctx, "open the client",
		chromedp.Navigate(env.url+"/clients/acme-001"),
		chromedp.WaitVisible(css("#viewer-note")),
	)
	screenshot(t, ctx, "viewer")
	if note := textOf(t, ctx, "#viewer-note"); !strings.Contains(note, "cannot change stages") {
		t.Errorf("viewer note %q", note)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#switch-form, #switch-button, #rollback-button, #confirm-dialog, #shadow-reset-button, #verify-button").length`); n != 0 {
		t.Fatalf("viewer sees %d change controls", n)
	}
	// The viewer calls the API directly, with a valid session and token.
	status := eval[int](t, ctx, `fetch("/api/clients/acme-001/stage", {
		method: "POST", credentials: "same-origin",
		headers: {"Content-Type": "application/json",
			"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content},
		body: JSON.stringify({to: "target", reason: "viewer tries", force: true}),
	}).then(r => r.status)`)
	if status != 403 {
		t.Fatalf("viewer's direct API call: status %d, want 403", status)
	}
	status = eval[int](t, ctx, `fetch("/api/clients/acme-001/shadow-reset", {
		method: "POST", credentials: "same-origin",
		headers: {"Content-Type": "application/json",
			"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content},
		body: JSON.stringify({reason: "viewer tries"}),
	}).then(r => r.status)`)
	if status != 403 {
		t.Fatalf("viewer's direct shadow reset: status %d, want 403", status)
	}
	v, err := env.store.Client(context.Background(), "acme-001")
	if err != nil || v.Stage != flags.StageShadow {
		t.Fatalf("after the viewer's attempt: stage %q (%v), want shadow", v.Stage, err)
	}
	if got := env.evaluated("acme-001"); got != "shadow" {
		t.Fatalf("provider serves %q, want shadow", got)
	}
}
