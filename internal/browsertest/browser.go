// Package browsertest opens pages in a real headless Chromium for tests: it records
// every console error, uncaught exception, browser log error and network request of
// the page, evaluates JavaScript in it, clicks and takes screenshots. Chromium comes
// from the Debian package chromium (.ci/run installs it); without it the tests skip,
// except under CI, where they fail.
//
// A Page belongs to one test.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Page is one tab with a file loaded.
type Page struct {
	Ctx      context.Context
	URL      string
	mu       sync.Mutex
	problems []string // console errors, exceptions, log errors
	requests []string // every URL the page asked for
}

// Chromium returns the path of the chromium binary, or skips t (fails it under CI).
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not installed: .ci/run installs the Debian package chromium")
	}
	t.Skip("chromium not installed (apt-get install chromium; .ci/run does)")
	return ""
}

// Open starts a headless Chromium with a window of width x height, loads the file at
// path and waits until ready (a JavaScript expression) is true. The browser is closed
// when t ends.
func Open(t testing.TB, path string, width, height int, ready string) *Page {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium(t)),
		chromedp.WindowSize(width, height),
		// Tests run as root, where Chromium refuses its sandbox; the pages are ours.
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	p := &Page{URL: "file://" + abs}
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithListener(p.record))
	t.Cleanup(cancelTab)
	ctx, cancelTime := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTime)
	p.Ctx = ctx
	if err := chromedp.Do(ctx, chromedp.Navigate(p.URL)); err != nil {
		t.Fatalf("open %s: %v", p.URL, err)
	}
	p.WaitReady(t, ready)
	return p
}

// Reload loads the page again and waits until ready is true.
func (p *Page) Reload(t testing.TB, ready string) {
	t.Helper()
	if err := chromedp.Do(p.Ctx, chromedp.Navigate(p.URL)); err != nil {
		t.Fatalf("reload %s: %v", p.URL, err)
	}
	p.WaitReady(t, ready)
}

// WaitReady waits until the JavaScript expression ready is true.
func (p *Page) WaitReady(t testing.TB, ready string) {
	t.Helper()
	if _, err := chromedp.Run(p.Ctx, chromedp.Poll[bool](ready)); err != nil {
		t.Fatalf("page not ready (%s): %v; problems: %v", ready, err, p.Problems())
	}
}

// record runs in the tab's event loop: it only appends.
func (p *Page) record(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			var args []string
			for _, a := range ev.Args {
				args = append(args, strings.TrimSpace(string(a.Value)+" "+a.Description))
			}
			p.problems = append(p.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		desc := d.Text
		if d.Exception != nil {
			desc += " " + d.Exception.Description
		}
		p.problems = append(p.problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, desc))
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
			p.problems = append(p.problems, fmt.Sprintf("log %s %s: %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		p.requests = append(p.requests, ev.Request.URL)
	}
}

// Problems returns the console errors and warnings, exceptions and log errors so far.
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// Requests returns every URL requested so far, the page's own included.
func (p *Page) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// CheckClean fails t for every problem and for every request other than the page's.
func (p *Page) CheckClean(t testing.TB) {
	t.Helper()
	for _, pr := range p.Problems() {
		t.Errorf("browser: %s", pr)
	}
	for _, u := range p.Requests() {
		if u != p.URL {
			t.Errorf("the page fetched %s", u)
		}
	}
}

// Eval evaluates expr in the page and returns its JSON value as T.
func Eval[T any](t testing.TB, p *Page, expr string) T {
	t.Helper()
	v, err := chromedp.Run(p.Ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Settle waits until the browser has drawn two more frames, so that what a script
// changed (a scroll, a selection) has taken effect before the next step.
func (p *Page) Settle(t testing.TB) {
	t.Helper()
	_, err := chromedp.Run(p.Ctx, chromedp.Evaluate[bool](
		`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("settle: %v", err)
	}
}

// ClickAt clicks the left mouse button at a point of the viewport, as a person does.
func (p *Page) ClickAt(t testing.TB, x, y float64) {
	t.Helper()
	if err := chromedp.Do(p.Ctx, chromedp.MouseClickXY(x, y)); err != nil {
		t.Fatalf("click at %.0f,%.0f: %v", x, y, err)
	}
}

// Click clicks the first element matching a CSS selector.
func (p *Page) Click(t testing.TB, selector string) {
	t.Helper()
	if err := chromedp.Do(p.Ctx, chromedp.Click(selector)); err != nil {
		t.Fatalf("click %s: %v", selector, err)
	}
}

// Type sends keys to the first element matching a CSS selector.
func (p *Page) Type(t testing.TB, selector, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Focus(selector)); err != nil {
		t.Fatalf("focus %s: %v", selector, err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(text)); err != nil {
		t.Fatalf("type into %s: %v", selector, err)
	}
}

// Screenshot writes a PNG of the whole page (of the viewport only when viewport is
// set: a page of thousands of rows is slow to capture whole) to name in
// $TLSAUDIT_ARTIFACTS, or a temporary directory of t, and returns its path.
func (p *Page) Screenshot(t testing.TB, name string, viewport bool) string {
	t.Helper()
	shot := chromedp.FullScreenshot(100)
	if viewport {
		shot = chromedp.CaptureScreenshot()
	}
	png, err := chromedp.Run(p.Ctx, shot)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("TLSAUDIT_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}
