package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald/models"
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

// TestBrowserWalkthrough signs in with a one-time link and walks through
// the UI as an on-call admin would, in a real browser.
func TestBrowserWalkthrough(t *testing.T) {
	h := newHarness(t, models.DialectPostgres)
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

	// Analytics renders its charts (server-side SVG).
	b.run("analytics",
		chromedp.Navigate(b.base+"/analytics"),
		chromedp.WaitVisible(chromedp.CSS(`figure.chart svg[role="img"]`)),
	)
	charts := get(b, "count charts", chromedp.Evaluate[int](`document.querySelectorAll('figure.chart svg').length`))
	if charts < 4 {
		t.Fatalf("%d charts on /analytics, want 4", charts)
	}
	b.screenshot("09-analytics")

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
