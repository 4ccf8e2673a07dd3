package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// The browser tests drive the web UI in Debian's headless Chromium (never
// a downloaded browser): .ci/run installs the chromium package and sets
// HERALD_REQUIRE_BROWSER=1, so a missing browser fails CI instead of
// skipping. Screenshots of each step go to HERALD_ARTIFACTS_DIR (default
// ./artifacts/browser, ignored by git).

// browser is one headless Chromium tab on a running Herald.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string // the test server's URL
	dir  string // screenshots
}

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts Chromium for the harness's first node.
func newBrowser(t *testing.T, h *harness) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("HERALD_REQUIRE_BROWSER") == "1" {
			t.Fatal("HERALD_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
		}
		t.Skip("no chromium on PATH: install Debian's chromium package to run the browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // CI runs as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first action starts the browser and binds it to the context it
	// is given: start it on the test-long context, not a step's timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	dir := os.Getenv("HERALD_ARTIFACTS_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts", "browser")
	}
	dir = filepath.Join(dir, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, ctx: ctx, base: h.node.srv.URL, dir: dir}
}

// run performs actions with a deadline, failing the test (with a
// screenshot of where it stopped) on error.
func (b *browser) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.screenshot("failed-" + step)
		b.t.Fatalf("browser step %q: %v", step, err)
	}
}

// screenshot saves the whole page as <dir>/<name>.png.
func (b *browser) screenshot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG (lower is JPEG)
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.t.Logf("screenshot: %s", path)
}

// text returns the visible text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return get(b, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// get runs one action that returns a value.
func get[T any](b *browser, step string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.screenshot("failed-" + strings.ReplaceAll(step, " ", "-"))
		b.t.Fatalf("browser step %q: %v", step, err)
	}
	return v
}

// dropFlash removes the page's flash message, so waiting for p.flash
// waits for the next page's.
func dropFlash() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](`document.querySelectorAll('p.flash').forEach(e => e.remove()); true`)(ctx, t)
		return chromedp.Void{}, err
	}
}

// chooseOption selects the option of a <select> whose text contains label.
func chooseOption(sel, label string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		js := fmt.Sprintf(`(() => { const s = document.querySelector(%q); const o = [...s.options].find(o => o.textContent.includes(%q)); s.value = o.value; return true })()`, sel, label)
		_, err := chromedp.Evaluate[bool](js)(ctx, t)
		return chromedp.Void{}, err
	}
}

// signIn follows a one-time link as a person would: open it, press the
// button.
func (b *browser) signIn(link string) {
	b.t.Helper()
	link = strings.Replace(link, "http://herald.test", b.base, 1) + "?next=/analytics"
	b.run("sign in",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login/link"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/login/link"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/me"]`)),
	)
}

// walkthroughCatalog is the team, people, plan and schedule the walkthrough
// works on.
const walkthroughCatalog = `
people:
  - {name: alice, slack_id: U0ALICE}
  - {name: bob, slack_id: U0BOB}
teams:
  - {name: payments, slack_channel: C0PAYMENTS, members: [alice, bob]}
plans:
  - name: payments
    team: payments
    steps:
      - notifications:
          - {role: oncall-primary, target: payments, priority: high, wait: 5, repeat: 1}
schedules:
  - team: payments
    name: Payments weekly
    time_zone: UTC
    rotations:
      - {name: weekly, role: primary, members: [alice, bob], shift: weekly, every: 1, handoff: "09:00", handoff_day: monday, start: 2025-01-06}
`

// TestBrowserWalkthrough signs in with a one-time link and walks through
// the UI as an on-call admin would, in a real browser: declare an
// incident, edit its summary, acknowledge it, save a plan version, add an
// override, see the analytics charts.
func TestBrowserWalkthrough(t *testing.T) {
	h := newHarness(t, models.DialectPostgres)
	c, err := notifications.ParseCatalog([]byte(walkthroughCatalog))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := notifications.Apply(h.ctx, h.app.Store, c, notifications.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, h)
	link, err := h.node.app.loginLinks().ForName(h.ctx, "ann", models.WebRoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	b.signIn(link)
	b.screenshot("01-signed-in")
	if who := b.text(`a[href="/me"]`); who != "ann" {
		t.Fatalf("signed in as %q", who)
	}

	// Declare an incident from the web.
	b.run("declare",
		chromedp.Navigate(b.base+"/incidents/new"),
		chromedp.WaitVisible(chromedp.CSS(`#new-title`)),
		chromedp.SendKeys(chromedp.CSS(`#new-title`), "Checkout is failing"),
		chromedp.SetValue(chromedp.CSS(`#new-severity`), "2"),
		chromedp.Click(chromedp.CSS(`form[action="/incidents/new"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/summary"]`)),
	)
	b.screenshot("02-declared")
	inc, err := h.app.Store.IncidentByNumber(h.ctx, 1)
	if err != nil || inc.Title != "Checkout is failing" || inc.Severity != models.SEV2 {
		t.Fatalf("declared: %+v %v", inc, err)
	}

	// Edit its summary.
	b.run("edit summary",
		dropFlash(),
		chromedp.Click(chromedp.CSS(`details summary`)), // "Edit the summary"
		chromedp.SetValue(chromedp.CSS(`#inc-summary`), "Card payments time out at the gateway."),
		chromedp.Click(chromedp.CSS(`form[action$="/summary"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
	)
	if inc, _ = h.app.Store.IncidentByNumber(h.ctx, 1); inc.Summary != "Card payments time out at the gateway." {
		t.Fatalf("summary %q", inc.Summary)
	}
	b.screenshot("03-summary")

	// Acknowledge it.
	b.run("acknowledge",
		chromedp.Click(chromedp.CSS(`form[action$="/ack"] button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form[action$="/ack"]`)),
	)
	if inc, _ = h.app.Store.IncidentByNumber(h.ctx, 1); inc.AcknowledgedAt == nil {
		t.Fatal("not acknowledged")
	}
	b.screenshot("04-acknowledged")

	// Save a new version of the plan (a draft), then publish it.
	b.run("plan version",
		chromedp.Navigate(b.base+"/plans/payments/edit"),
		chromedp.WaitVisible(chromedp.CSS(`form.plan-editor`)),
		chromedp.SetValue(chromedp.CSS(`input[name$="wait"]`), "3"),
		chromedp.Click(chromedp.CSS(`form.plan-editor .actions button.primary[value=save]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/plans/payments/publish"]`)),
	)
	b.screenshot("05-plan-draft")
	var versions int64
	if err := h.db.Gorm.Raw("SELECT COUNT(*) FROM plan_versions v JOIN plans p ON p.id = v.plan_id WHERE p.name = 'payments'").Row().Scan(&versions); err != nil || versions != 2 {
		t.Fatalf("plan versions %d, %v; want 2", versions, err)
	}

	// Add an override: bob on call tomorrow.
	tomorrow := h.now().AddDate(0, 0, 1).Format("2006-01-02")
	b.run("override",
		chromedp.Navigate(b.base+"/schedules/payments/overrides/new?date="+tomorrow),
		chromedp.WaitVisible(chromedp.CSS(`select#person`)),
		chooseOption(`select#person`, "bob"),
		chromedp.SetValue(chromedp.CSS(`#reason`), "covering for alice"),
		dropFlash(),
		chromedp.Click(chromedp.CSS(`form[action="/schedules/payments/overrides"] button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
	)
	b.screenshot("06-override")
	var overrides int64
	if err := h.db.Gorm.Raw("SELECT COUNT(*) FROM schedule_overrides").Row().Scan(&overrides); err != nil || overrides != 1 {
		t.Fatalf("overrides %d, %v; want 1", overrides, err)
	}

	// Analytics renders its charts (server-side SVG).
	b.run("analytics",
		chromedp.Navigate(b.base+"/analytics"),
		chromedp.WaitVisible(chromedp.CSS(`figure.chart svg[role="img"]`)),
	)
	charts := get(b, "count charts", chromedp.Evaluate[int](`document.querySelectorAll('figure.chart svg').length`))
	if charts < 4 {
		t.Fatalf("%d charts on /analytics, want 4", charts)
	}
	b.screenshot("07-analytics")

	// A phone-sized screen: the incident doc still has its buttons.
	b.run("phone",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(b.base+"/incidents/1"),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/resolve"] button`)),
	)
	b.screenshot("08-phone-incident")

	// The one-time link does not work twice.
	b.run("reuse link",
		chromedp.Navigate(strings.Replace(link, "http://herald.test", b.base, 1)),
		chromedp.Click(chromedp.CSS(`form[action="/login/link"] button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form[action="/login/link"]`)),
	)
	if h1 := b.text(`main h1`); h1 != "Link used or expired" {
		t.Fatalf("second use of the link: %q", h1)
	}
}
