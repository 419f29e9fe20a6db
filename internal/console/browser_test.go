package console_test

import (
	"context"
	"crypto/ed25519"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/manifest"
)

// events are 60 events of acme: i%3==0 are assessments, entity ent-(i%4).
func events(prefix string, n int) []map[string]any {
	base := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	types := []string{"assessment", "task", "workflow"}
	var out []map[string]any
	for i := range n {
		out = append(out, map[string]any{
			"id": fmt.Sprintf("%s-%03d", prefix, i), "occurred_at": base.Add(time.Duration(i) * time.Hour).Format(time.RFC3339),
			"event_type": types[i%3], "sub_type": "created", "system_source": "assessment_service",
			"auditee_id": fmt.Sprintf("user-%d", i%5), "description": fmt.Sprintf("event %d", i),
			"metadata": map[string]any{"entity_id": fmt.Sprintf("ent-%d", i%4)},
		})
	}
	return out
}

// browserContext starts Debian's chromium headless with a fresh profile.
// A missing chromium fails the test: scripts/test.sh installs it.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed (scripts/test.sh installs Debian's chromium package): %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	ctx, cancelT := context.WithTimeout(ctx, 8*time.Minute)
	t.Cleanup(cancelT)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Headless pages never hold the system focus; without emulating it no
	// element matches :focus and the focus check could not see outlines.
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatalf("focus emulation: %v", err)
	}
	return ctx
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(step, actions...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 2000) : ""`))
		t.Fatalf("%s: %v (at %s: %s)", what, err, loc, html)
	}
}

// eval evaluates a JavaScript expression in the page (awaiting a promise).
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// screenshot checks that the page fits a phone (390 px: nothing makes the
// page itself scroll sideways; a wide table scrolls in its own region or
// turns into cards) and, when CONSOLE_SCREENSHOTS names a directory, saves
// the page at 1280 px and 390 px (for people to look at; never committed).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("CONSOLE_SCREENSHOTS")
	for _, w := range []int64{1280, 390} {
		run(t, ctx, "viewport", chromedp.EmulateViewport(w, 900))
		if over := eval[int](t, ctx, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
			t.Errorf("%s at %d px: the page is %d px wider than the screen", name, w, over)
		}
		if dir == "" {
			continue
		}
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, w)), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, ctx, "viewport", chromedp.EmulateViewport(1280, 900))
}

// a11yCheck is a focused in-page accessibility check (axe-core is not
// vendored): every form control has a label, the page has a language and
// one h1, ids are unique, every text node's colour has WCAG AA contrast on
// its effective background, and focus is visible (an outline) on the
// controls a keyboard reaches.
const a11yCheck = `(() => {
  const bad = [];
  if (!document.documentElement.lang) bad.push("html has no lang");
  if (document.querySelectorAll("h1").length !== 1) bad.push("not exactly one h1");
  const ids = {};
  document.querySelectorAll("[id]").forEach(e => { if (ids[e.id]) bad.push("duplicate id " + e.id); ids[e.id] = 1; });
  document.querySelectorAll("input:not([type=hidden]),select,textarea").forEach(e => {
    if (!(e.labels && e.labels.length) && !e.getAttribute("aria-label")) bad.push("unlabelled " + (e.name || e.id));
  });
  document.querySelectorAll("button,a[href]").forEach(e => { if (!e.textContent.trim() && !e.getAttribute("aria-label")) bad.push("nameless control"); });
  const rgb = s => { const m = s.match(/[\d.]+/g).map(Number); return {r:m[0], g:m[1], b:m[2], a: m.length > 3 ? m[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126*f(c.r) + 0.7152*f(c.g) + 0.0722*f(c.b); };
  const bg = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.a > 0.5) return c; } return {r:255,g:255,b:255,a:1}; };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walker.nextNode());) {
    const e = n.parentElement;
    if (!n.textContent.trim() || !e.offsetParent && getComputedStyle(e).position !== "fixed") continue;
    const st = getComputedStyle(e);
    if (e.closest(".skip")) continue;
    const l1 = lum(rgb(st.color)), l2 = lum(bg(e));
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const large = parseFloat(st.fontSize) >= 24 || (parseFloat(st.fontSize) >= 18.66 && Number(st.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) bad.push("contrast " + ratio.toFixed(2) + " for " + JSON.stringify(n.textContent.trim().slice(0, 30)));
  }
  const focusable = document.querySelectorAll("a[href],button,input:not([type=hidden]),select,textarea");
  for (const e of focusable) {
    e.focus();
    if (document.activeElement !== e) continue;
    const st = getComputedStyle(e);
    if (st.outlineStyle === "none" || parseFloat(st.outlineWidth) < 2) bad.push("no visible focus on " + (e.id || e.name || e.tagName));
    e.blur();
  }
  return bad;
})()`

func checkA11y(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	bad := eval[[]string](t, ctx, a11yCheck)
	if len(bad) > 0 {
		t.Errorf("%s: accessibility: %s", page, strings.Join(bad, "; "))
	}
}

func TestConsoleInBrowser(t *testing.T) {
	signingKey, seed, err := manifest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keyID := manifest.KeyID(signingKey.Public().(ed25519.PublicKey))
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file", Env: map[string]string{"SIGNING_KEY": seed}})
	keyA := env.Key("acme")
	keyB := env.Key("globex")
	env.Ingest(keyA, events("a", 60))
	env.Ingest(keyB, events("b", 6))
	ctx := browserContext(t)
	base := env.URL + "/console/"
	dl := t.TempDir()
	yes := true
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dl, EventsEnabled: &yes}); err != nil {
		t.Fatalf("download behaviour: %v", err)
	}

	// Security headers come with every page.
	res, _ := env.Do(http.MethodGet, "/console/signin", "", nil)
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") ||
		strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}

	// Not signed in: the console sends the browser to sign in.
	run(t, ctx, "open console", chromedp.Navigate(env.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#apikey")))
	if loc := location(t, ctx); !strings.HasSuffix(loc, "/console/signin") {
		t.Fatalf("bare address went to %s, want the sign-in page", loc)
	}
	checkA11y(t, ctx, "signin")
	screenshot(t, ctx, "signin")
	run(t, ctx, "wrong key", chromedp.SendKeys(chromedp.CSS("#apikey"), "ask_nope"), chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#apikey-error")))
	if got := text(t, ctx, "#apikey-error"); got != "invalid API key: it is unknown, revoked or expired" {
		t.Errorf("wrong key says %q, want the API's \"invalid API key\"", got)
	}
	signIn := func(key string) {
		t.Helper()
		run(t, ctx, "sign in", chromedp.Navigate(base+"signin"), chromedp.WaitVisible(chromedp.CSS("#apikey")),
			chromedp.SendKeys(chromedp.CSS("#apikey"), key), chromedp.Click(chromedp.CSS("#signin")),
			chromedp.WaitVisible(chromedp.CSS("#export-form")))
	}
	signIn(keyA)
	if got := text(t, ctx, "#tenant"); got != "acme" {
		t.Errorf("signed in as tenant %q, want acme", got)
	}
	got, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	cookies := got.Cookies
	var session *network.Cookie
	for _, c := range cookies {
		if c.Name == "sentinel_session" {
			session = c
		}
		if strings.Contains(c.Value, keyA) {
			t.Errorf("cookie %s holds the API key", c.Name)
		}
	}
	if session == nil || !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict || session.Expires <= 0 ||
		time.Unix(int64(session.Expires), 0).After(time.Now().Add(9*time.Hour)) {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Strict, expiring within 8h", session)
	}
	stored := eval[string](t, ctx, `document.cookie + "|" + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)`)
	if stored != `|{}{}` {
		t.Errorf("script-visible storage = %q, want nothing", stored)
	}
	checkA11y(t, ctx, "export form")
	screenshot(t, ctx, "export-form")

	// A POST without the CSRF token is refused.
	csrfStatus := eval[int](t, ctx, `fetch("/console/exports", {method: "POST", body: new URLSearchParams({event_type: "x"})}).then(r => r.status)`)
	if csrfStatus != http.StatusForbidden {
		t.Errorf("POST without CSRF token: %d, want 403", csrfStatus)
	}

	// A bad zone is refused inline with the API's message.
	_, apiBody := env.Do(http.MethodGet, "/v5/audit-sentinel/events/export?timezone=Mars/Base", keyA, nil)
	run(t, ctx, "bad zone", chromedp.SetValue(chromedp.CSS("#timezone"), "Mars/Base"), chromedp.Click(chromedp.CSS("#request-export")),
		chromedp.WaitVisible(chromedp.CSS("#timezone-error")))
	var apiErr httpapi.ErrorBody
	if err := json.Unmarshal(apiBody, &apiErr); err != nil || apiErr.Error.Param != "timezone" {
		t.Fatalf("API answer to a bad zone: %s", apiBody)
	}
	if got := text(t, ctx, "#timezone-error"); got != apiErr.Error.Message {
		t.Errorf("inline error %q is not the API's (%s)", got, apiBody)
	}
	if eval[string](t, ctx, `document.getElementById("timezone").getAttribute("aria-invalid")`) != "true" {
		t.Errorf("the refused field is not marked aria-invalid")
	}
	screenshot(t, ctx, "export-form-error")

	// An export with filters: assessments of entity ent-0 in April (i%12==0: 5 events).
	run(t, ctx, "request export", chromedp.SetValue(chromedp.CSS("#timezone"), "Europe/Berlin"),
		chromedp.SetValue(chromedp.CSS("#event_type"), "assessment"),
		chromedp.SetValue(chromedp.CSS("#metadata"), "entity_id=ent-0"),
		chromedp.SetValue(chromedp.CSS("#range_start"), "2026-04-10T00:00:00Z"),
		chromedp.SetValue(chromedp.CSS("#range_end"), "2026-04-30T00:00:00Z"),
		chromedp.SetValue(chromedp.CSS("#locale"), "de"),
		chromedp.Click(chromedp.CSS("#request-export")), chromedp.WaitVisible(chromedp.CSS("#progress")),
		chromedp.WaitVisible(chromedp.CSS("#download")))
	value := eval[float64](t, ctx, `document.getElementById("progress").value`)
	maxv := eval[float64](t, ctx, `document.getElementById("progress").max`)
	if value != 5 || maxv != 5 {
		t.Errorf("progress bar %v of %v, want 5 of 5", value, maxv)
	}
	if got := text(t, ctx, "#rows"); got != "5 of 5 rows" {
		t.Errorf("rows say %q", got)
	}
	exportURL := location(t, ctx)
	checkA11y(t, ctx, "export")
	screenshot(t, ctx, "export")

	done := make(chan string, 1)
	_ = chromedp.ListenBrowser(ctx, func(ev any) {
		if e, ok := ev.(*browser.EventDownloadProgress); ok && e.State == browser.DownloadProgressStateCompleted {
			select {
			case done <- e.GUID:
			default:
			}
		}
	})
	run(t, ctx, "download", chromedp.Click(chromedp.CSS("#download")))
	var guid string
	select {
	case guid = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("download did not complete")
	}
	f, err := os.Open(filepath.Join(dl, guid))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 {
		t.Fatalf("downloaded CSV has %d records, want header + 5", len(recs))
	}
	for _, r := range recs[1:] {
		if r[2] != "assessment" || !strings.HasSuffix(r[1], "+02:00") {
			t.Errorf("row %v: want an assessment shown in Europe/Berlin", r)
		}
	}

	// Two more exports: the archive pages them two at a time, newest first.
	for _, q := range []string{"event_type=task", "event_type=workflow"} {
		res, body := env.Do(http.MethodGet, "/v5/audit-sentinel/events/export?"+q, keyA, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("export %s: %d %s", q, res.StatusCode, body)
		}
	}
	res, body := env.Do(http.MethodGet, "/v5/audit-sentinel/events/export?event_type=task", keyB, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("globex export: %d %s", res.StatusCode, body)
	}
	_, body = env.Do(http.MethodGet, "/v5/audit-sentinel/exports", keyB, nil)
	var globex struct {
		Exports []struct {
			ID string `json:"id"`
		} `json:"exports"`
	}
	if err := json.Unmarshal(body, &globex); err != nil || len(globex.Exports) != 1 {
		t.Fatalf("globex's exports: %v %s", err, body)
	}
	globexID := globex.Exports[0].ID
	const countRows = `document.querySelectorAll("#archives tbody tr").length`
	run(t, ctx, "archives", chromedp.Navigate(base+"archives?limit=2"), chromedp.WaitVisible(chromedp.CSS("#archives")))
	rows := eval[int](t, ctx, countRows)
	if rows != 2 {
		t.Errorf("first page has %d exports, want 2", rows)
	}
	// Each row says who asked, and its manifest verifies with the
	// server's published key.
	for _, row := range eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#archives tbody tr")).map(r => r.querySelector(".requester").textContent + "|" + r.querySelector(".signature").textContent.trim())`) {
		if want := "key test|signed, verified (key id " + keyID + ")"; row != want {
			t.Errorf("archive row says %q, want %q", row, want)
		}
	}
	checkA11y(t, ctx, "archives")
	screenshot(t, ctx, "archives")
	run(t, ctx, "next page", chromedp.Click(chromedp.CSS("#next-page")), chromedp.WaitVisible(chromedp.CSS("#first-page")))
	rows = eval[int](t, ctx, countRows)
	ids := eval[string](t, ctx, `Array.from(document.querySelectorAll("#archives tbody tr")).map(r => r.dataset.id).join(",")`)
	if rows != 1 || !strings.Contains(exportURL, ids) {
		t.Errorf("second page has %d exports (%s), want the first one, %s", rows, ids, exportURL)
	}
	run(t, ctx, "filter", chromedp.Navigate(base+"archives?file_type=pdf"), chromedp.WaitVisible(chromedp.CSS("#archives-empty")))

	// Tenant isolation: globex's export is not found for acme.
	if globexID == "" {
		t.Fatalf("no id for globex's export")
	}
	run(t, ctx, "other tenant's export", chromedp.Navigate(base+"exports/"+globexID), chromedp.WaitVisible(chromedp.CSS("#form-error")))
	if got := text(t, ctx, "#form-error"); !strings.Contains(got, "not found") {
		t.Errorf("globex's export as acme says %q, want not found", got)
	}
	bridged := eval[int](t, ctx, `fetch("/console/api/exports/`+globexID+`/file").then(r => r.status)`)
	if bridged != http.StatusNotFound {
		t.Errorf("globex's file through acme's session: %d, want 404", bridged)
	}

	// Delete with confirmation.
	run(t, ctx, "delete", chromedp.Navigate(base+"archives"), chromedp.WaitVisible(chromedp.CSS("#archives")),
		chromedp.Click(chromedp.CSS("#archives tbody tr:first-child a.danger")), chromedp.WaitVisible(chromedp.CSS("#confirm-delete")))
	screenshot(t, ctx, "confirm-delete")
	run(t, ctx, "confirm", chromedp.Click(chromedp.CSS("#confirm-delete")), chromedp.WaitVisible(chromedp.CSS("#archives")))
	rows = eval[int](t, ctx, countRows)
	if rows != 2 {
		t.Errorf("after deleting one of 3 exports the archive lists %d", rows)
	}
	if got := text(t, ctx, ".notice"); got != "The export was deleted." {
		t.Errorf("after deleting, the archive says %q", got)
	}

	// Filter by requester: another key's export alone.
	auditor, auditorKey, err := apikey.Create(context.Background(), env.Deps.Store, "acme", "auditor", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res, body := env.Do(http.MethodGet, "/v5/audit-sentinel/events/export?event_type=assessment&sub_type=created", auditorKey, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("auditor's export: %d %s", res.StatusCode, body)
	}
	run(t, ctx, "filter by requester", chromedp.Navigate(base+"archives"), chromedp.WaitVisible(chromedp.CSS("#archives")),
		chromedp.SetValue(chromedp.CSS("#f-requester"), "key:"+auditor.ID), chromedp.Click(chromedp.CSS("#filter")))
	waitJS(t, ctx, `location.search.includes("requested_by=key%3A`+auditor.ID+`") && document.readyState === "complete"`)
	if got := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#archives tbody .requester")).map(e => e.textContent)`); len(got) != 1 || got[0] != "key auditor" {
		t.Errorf("archives requested by the auditor key: %q, want its one export", got)
	}
	if !strings.Contains(location(t, ctx), "requested_by=key%3A"+auditor.ID) {
		t.Errorf("the requester filter is not in the address: %s", location(t, ctx))
	}
	checkA11y(t, ctx, "archives by requester")
	ownID := sessionKeyID(t, env, keyA)
	run(t, ctx, "filter by own key", chromedp.SetValue(chromedp.CSS("#f-requester"), "key:"+ownID),
		chromedp.Click(chromedp.CSS("#filter")))
	waitJS(t, ctx, `location.search.includes("requested_by=key%3A`+ownID+`") && document.readyState === "complete"`)
	if n := eval[int](t, ctx, countRows); n != 2 {
		t.Errorf("archives requested by the signed-in key: %d, want 2", n)
	}

	// A schedule: create, read in words, run now, pause.
	run(t, ctx, "new schedule", chromedp.Navigate(base+"schedules/new"), chromedp.WaitVisible(chromedp.CSS("#schedule-form")))
	checkA11y(t, ctx, "schedule form")
	screenshot(t, ctx, "schedule-form")
	run(t, ctx, "bad cron", chromedp.SetValue(chromedp.CSS("#name"), "Weekly assessments"),
		chromedp.SetValue(chromedp.CSS("#cron"), "61 6 * * 1"), chromedp.Click(chromedp.CSS("#save-schedule")),
		chromedp.WaitVisible(chromedp.CSS("#cron-error")))
	run(t, ctx, "create schedule", chromedp.SetValue(chromedp.CSS("#cron"), "0 6 * * 1"),
		chromedp.SetValue(chromedp.CSS("#sched-timezone"), "Europe/Berlin"),
		chromedp.SetValue(chromedp.CSS("#f-event_type"), "assessment"),
		chromedp.Click(chromedp.CSS("#save-schedule")), chromedp.WaitVisible(chromedp.CSS("#run-schedule")))
	if got := text(t, ctx, "#schedule-words"); got != "every Monday at 06:00 Europe/Berlin, covering the previous week" {
		t.Errorf("schedule in words: %q", got)
	}
	checkA11y(t, ctx, "schedule")
	run(t, ctx, "run now", chromedp.Click(chromedp.CSS("#run-schedule")), chromedp.WaitVisible(chromedp.CSS("#progress")))
	if !strings.Contains(location(t, ctx), "/console/exports/") {
		t.Errorf("run now went to %s", location(t, ctx))
	}
	run(t, ctx, "schedule again", chromedp.Navigate(base+"schedules"), chromedp.WaitVisible(chromedp.CSS("#schedules")),
		chromedp.Click(chromedp.CSS("#schedules tbody a")), chromedp.WaitVisible(chromedp.CSS("#runs")),
		chromedp.Click(chromedp.CSS("#toggle-schedule")))
	// #schedule-state is on the page before the click too: wait for the
	// page that answers the form's POST to say Paused, reading it again
	// while the browser navigates.
	state := ""
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#schedule-state")))
		if state = s; err == nil && strings.TrimSpace(state) == "Paused" {
			break
		}
	}
	if state = strings.TrimSpace(state); state != "Paused" {
		t.Errorf("after pause the schedule is %q", state)
	}
	screenshot(t, ctx, "schedule")
	run(t, ctx, "schedules", chromedp.Navigate(base+"schedules"), chromedp.WaitVisible(chromedp.CSS("#schedules")))
	screenshot(t, ctx, "schedules")

	// The language switch: the page speaks German, and keeps doing so on
	// the next page (a cookie); times follow the chosen zone.
	run(t, ctx, "to German", chromedp.SetValue(chromedp.CSS("#pref-lang"), "de"),
		chromedp.SetValue(chromedp.CSS("#pref-tz"), "Asia/Tokyo"), chromedp.Click(chromedp.CSS("#pref-apply")))
	waitJS(t, ctx, `document.documentElement.lang === "de" && document.readyState === "complete"`)
	if lang, h1 := eval[string](t, ctx, `document.documentElement.lang`), text(t, ctx, "h1"); lang != "de" || h1 != "Zeitpläne" {
		t.Errorf("after switching to German: lang %q, heading %q", lang, h1)
	}
	if got := text(t, ctx, "#schedules tbody td:nth-child(2)"); got != "jeden Montag um 06:00 Europe/Berlin, für die Vorwoche" {
		t.Errorf("schedule in German words: %q", got)
	}
	checkA11y(t, ctx, "schedules in German")
	run(t, ctx, "archives in German", chromedp.Navigate(base+"archives"), chromedp.WaitVisible(chromedp.CSS("#archives")))
	if h1, nav := text(t, ctx, "h1"), text(t, ctx, "header nav"); h1 != "Archiv" || !strings.Contains(nav, "Neuer Export") {
		t.Errorf("the next page is not German: heading %q, nav %q", h1, nav)
	}
	rowsDE := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#archives tbody tr")).map(r => r.querySelector(".requester").textContent + "|" + r.querySelector(".signature").textContent.trim())`)
	if !slices.Contains(rowsDE, "Schlüssel auditor|signiert, geprüft (Schlüssel-ID "+keyID+")") ||
		!slices.ContainsFunc(rowsDE, func(r string) bool { return strings.HasPrefix(r, "Zeitplan Weekly assessments|") }) {
		t.Errorf("archive rows in German: %q", rowsDE)
	}
	if got := text(t, ctx, "#archives tbody tr:first-child td:first-child"); !strings.HasSuffix(got, " JST") {
		t.Errorf("created at %q, want a time in Asia/Tokyo (JST)", got)
	}
	screenshot(t, ctx, "archives-de")
	run(t, ctx, "back to English", chromedp.SetValue(chromedp.CSS("#pref-lang"), "en"),
		chromedp.SetValue(chromedp.CSS("#pref-tz"), "UTC"), chromedp.Click(chromedp.CSS("#pref-apply")))
	waitJS(t, ctx, `document.documentElement.lang === "en" && document.readyState === "complete"`)
	if h1 := text(t, ctx, "h1"); h1 != "Archives" {
		t.Errorf("back in English the heading is %q", h1)
	}

	// Sign out ends the session.
	run(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#apikey")),
		chromedp.Navigate(base+"archives"), chromedp.WaitVisible(chromedp.CSS("#apikey")))

	// Revoking the key ends its session at the next request.
	k, keyC, err := apikey.Create(context.Background(), env.Deps.Store, "acme", "revoked", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	signIn(keyC)
	if err := env.Deps.Store.RevokeAPIKey(context.Background(), k.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "after revocation", chromedp.Navigate(base+"archives"), chromedp.WaitVisible(chromedp.CSS("#apikey")))
	if got := text(t, ctx, "#form-error"); got != "invalid API key: it is unknown, revoked or expired" {
		t.Errorf("a revoked key's session says %q", got)
	}

	// Without a choice, the browser's languages decide.
	if _, err := chromedp.Call(ctx, network.DeleteCookies, network.DeleteCookiesParams{Name: "sentinel_lang", URL: base}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": "ja, fr-CH;q=0.9, en;q=0.5"}}); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "in French", chromedp.Navigate(base+"signin"), chromedp.WaitVisible(chromedp.CSS("#apikey")))
	if h1, label := text(t, ctx, "h1"), text(t, ctx, "label[for=apikey]"); h1 != "Connexion" || label != "Clé d’API" {
		t.Errorf("with Accept-Language fr the sign-in page says %q / %q", h1, label)
	}
	screenshot(t, ctx, "signin-fr")
}

// waitJS waits until the page's JavaScript expression is true: after a
// click that loads another page, or this one again.
func waitJS(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sessionKeyID is the id of the key whose secret is secret.
func sessionKeyID(t *testing.T, env *apptest.Env, secret string) string {
	t.Helper()
	k, err := apikey.Authenticate(context.Background(), env.Deps.Store, secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return k.ID
}
