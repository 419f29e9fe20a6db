package console_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
)

// consoleClient is a browser without a browser: cookies, forms, no script.
type consoleClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newConsoleClient(t *testing.T, env *apptest.Env, key string) *consoleClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	cc := &consoleClient{t: t, base: env.URL, c: &http.Client{Jar: jar}}
	if status, body := cc.post("/console/signin", url.Values{"apikey": {key}}); status != http.StatusOK ||
		!strings.Contains(body, `id="export-form"`) {
		t.Fatalf("sign in: %d %s", status, body)
	}
	return cc
}

func (cc *consoleClient) do(req *http.Request) (int, string) {
	cc.t.Helper()
	res, err := cc.c.Do(req)
	if err != nil {
		cc.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		cc.t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

func (cc *consoleClient) get(path string) (int, string) {
	cc.t.Helper()
	req, err := http.NewRequest(http.MethodGet, cc.base+path, nil)
	if err != nil {
		cc.t.Fatal(err)
	}
	return cc.do(req)
}

func (cc *consoleClient) post(path string, form url.Values) (int, string) {
	cc.t.Helper()
	req, err := http.NewRequest(http.MethodPost, cc.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		cc.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return cc.do(req)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf reads the token off a page's form.
func (cc *consoleClient) csrf(page string) string {
	cc.t.Helper()
	_, body := cc.get(page)
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		cc.t.Fatalf("no CSRF token on %s", page)
	}
	return m[1]
}

// TestConsoleWithoutSigningKey: a deployment that signs no manifests says
// so in the archive, rather than claiming or denying a signature.
func TestConsoleWithoutSigningKey(t *testing.T) {
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file"})
	key := env.Key("acme")
	env.Ingest(key, events("a", 3))
	if res, body := env.Do(http.MethodGet, "/v5/audit-sentinel/events/export", key, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("export: %d %s", res.StatusCode, body)
	}
	cc := newConsoleClient(t, env, key)
	status, body := cc.get("/console/archives")
	if status != http.StatusOK {
		t.Fatalf("archives: %d %s", status, body)
	}
	if !strings.Contains(body, `<span class="sig sig-disabled"`) || !strings.Contains(body, ">manifests disabled</span>") {
		t.Errorf("archive of a deployment without SIGNING_KEY does not say manifests are disabled:\n%s", body)
	}
}

// TestConsoleExportNeedsTheScope: the console asks of a key what the
// export endpoint asks, though it does not go through the route.
func TestConsoleExportNeedsTheScope(t *testing.T) {
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file"})
	key := env.ScopedKey("acme", audit.ScopeSchedulesRead)
	cc := newConsoleClient(t, env, key)
	status, body := cc.post("/console/exports", url.Values{"csrf": {cc.csrf("/console/exports/new")}, "file_type": {"csv"}})
	if status != http.StatusForbidden || !strings.Contains(body, "lacks the scope events:read") {
		t.Errorf("export by a key without events:read: %d\n%s", status, body)
	}
	_, list := env.Do(http.MethodGet, "/v5/audit-sentinel/exports", env.Key("acme"), nil)
	if !strings.Contains(string(list), `"exports":[]`) {
		t.Errorf("the refused request made an export: %s", list)
	}
}

// TestConsoleExportFileOptions: the form's file options reach the export
// as the API's parameters, and the API's refusal of a combination sits by
// the field it names.
func TestConsoleExportFileOptions(t *testing.T) {
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file"})
	key := env.Key("acme")
	env.Ingest(key, events("a", 3))
	cc := newConsoleClient(t, env, key)
	csrf := cc.csrf("/console/exports/new")
	status, body := cc.post("/console/exports", url.Values{"csrf": {csrf}, "file_type": {"pdf"}, "compression": {"gzip"},
		"delimiter": {"comma"}, "paper": {"a4"}})
	if status != http.StatusBadRequest || !strings.Contains(body, `<p class="error" id="compression-error">compression applies to csv and ndjson`) {
		t.Errorf("a compressed PDF: %d\n%s", status, body)
	}
	status, body = cc.post("/console/exports", url.Values{"csrf": {csrf}, "file_type": {"csv"}, "compression": {"gzip"},
		"delimiter": {"semicolon"}, "bom": {"true"}, "columns": {"event_id, event_type"}, "paper": {"a4"}})
	if status != http.StatusOK || !strings.Contains(body, `id="progress"`) {
		t.Fatalf("an export with file options: %d\n%s", status, body)
	}
	_, list := env.Do(http.MethodGet, "/v5/audit-sentinel/exports", key, nil)
	for _, want := range []string{`"bom":true`, `"delimiter":"semicolon"`, `"columns":["event_id","event_type"]`, `"compression":"gzip"`} {
		if !strings.Contains(string(list), want) {
			t.Errorf("the export lacks %s: %s", want, list)
		}
	}
	// The console's request is in the tenant's stream, as the API's are,
	// naming the key that signed in.
	var requested []audit.Event
	err := env.Deps.Store.StreamEvents(t.Context(), audit.Filter{TenantID: "acme", SystemSources: []string{audit.SelfAuditSource},
		EventTypes: []string{audit.SelfAuditExportType}}, func(e *audit.Event) error {
		if e.SubType == "requested" {
			requested = append(requested, *e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(requested) != 1 || requested[0].Metadata["via"] != "console" || requested[0].Metadata["actor_key_id"] == "" ||
		!strings.Contains(string(list), `"id":"`+requested[0].Metadata["export_id"]+`"`) {
		t.Fatalf("self-audit of the console's request: %+v", requested)
	}
	// Parquet is offered on both forms and takes the columns.
	for _, form := range []string{"/console/exports/new", "/console/schedules/new"} {
		if _, page := cc.get(form); !strings.Contains(page, `<option value="parquet"`) {
			t.Errorf("%s does not offer parquet", form)
		}
	}
	status, body = cc.post("/console/exports", url.Values{"csrf": {csrf}, "file_type": {"parquet"}, "compression": {"none"},
		"delimiter": {"comma"}, "columns": {"event_id,occurred_at"}, "paper": {"a4"}})
	if status != http.StatusOK || !strings.Contains(body, `id="progress"`) {
		t.Fatalf("a parquet export: %d\n%s", status, body)
	}
	if _, list = env.Do(http.MethodGet, "/v5/audit-sentinel/exports?file_type=parquet", key, nil); !strings.Contains(string(list), `"columns":["event_id","occurred_at"]`) {
		t.Errorf("the parquet export: %s", list)
	}
}
