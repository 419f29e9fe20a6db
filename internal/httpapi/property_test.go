package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/manifest"
)

// propertyInputs is how many generated requests TestHTTPProperties sends to
// each store backend per run (a tenth with -short).
const propertyInputs = 2500

// TestHTTPProperties drives the real echo server, on SQLite and on
// PostgreSQL, with generated paths, ids, query strings, headers and bodies
// built from the inputs of the fault-and-fuzz campaign (issue 12) and random
// bytes, and asserts what must hold for any request:
//   - never a 5xx (but the 501 of presigned links, which a directory
//     store cannot make);
//   - never a recovered panic in the log;
//   - every 4xx carries the JSON error body, and an "invalid" one names
//     the parameter at fault.
//
// The seed is random and logged; PROPERTY_SEED=N replays a run.
func TestHTTPProperties(t *testing.T) {
	seed := rand.Uint64()
	if s := os.Getenv("PROPERTY_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	n := propertyInputs
	if testing.Short() {
		n /= 10
	}
	t.Logf("PROPERTY_SEED=%d, %d requests per backend", seed, n)
	key, _, err := manifest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := manifest.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	// Every optional part configured: a 501 for a part left out is a
	// deployment's choice, not a fault.
	tune := func(c *httpapi.Config) {
		c.MaxWait, c.Signer, c.Version = 20*time.Millisecond, signer, "test"
		c.Webhooks = c.Store.(httpapi.WebhookStore)
	}
	backendsWith(t, tune, func(t *testing.T, b *hbundle) {
		e, _ := completedIn(t, b, 4096)
		g := &gen{r: rand.New(rand.NewPCG(seed, 12)), exportID: e.ID, key: b.key}
		failures := 0
		for i := 0; i < n && failures < 10; i++ {
			req := g.request()
			if msg := b.check(t, req); msg != "" {
				failures++
				t.Errorf("request %d: %s %s\n  headers %v\n  body %q\n  %s", i, req.method, req.target, req.header, req.body, msg)
			}
		}
		if log := b.log.String(); strings.Contains(log, "msg=panic") {
			t.Errorf("a panic was logged:\n%s", log)
		}
	})
}

type genRequest struct {
	method, target, body string
	header               []string
}

// check sends req and returns what is wrong with the answer, or "".
func (b *hbundle) check(t *testing.T, req genRequest) string {
	t.Helper()
	r, err := http.NewRequest(req.method, b.server.URL+"/", strings.NewReader(req.body))
	if err != nil {
		t.Fatal(err)
	}
	r.URL.Opaque = "//" + r.URL.Host + req.target
	for i := 0; i+1 < len(req.header); i += 2 {
		r.Header.Set(req.header[i], req.header[i+1])
	}
	res, err := b.server.Client().Do(r)
	if err != nil {
		return fmt.Sprintf("transport error: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Sprintf("%d, body read error: %v", res.StatusCode, err)
	}
	if res.StatusCode == http.StatusNotImplemented && strings.Contains(string(body), `"not_implemented"`) {
		// Presigned links on a directory store: what the deployment
		// cannot do, said as such (every other optional part is set).
		return ""
	}
	if res.StatusCode >= 500 {
		return fmt.Sprintf("%d %s", res.StatusCode, body)
	}
	if res.StatusCode < 400 || req.method == http.MethodHead {
		return ""
	}
	if res.StatusCode == http.StatusBadRequest && string(body) == "400 Bad Request" && res.Header.Get("X-Request-Id") == "" {
		// net/http's own answer to a request line it cannot parse (a bad
		// escape in the path): no handler of ours ever saw the request.
		return ""
	}
	var eb httpapi.ErrorBody
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || json.Unmarshal(body, &eb) != nil ||
		eb.Error.Code == "" || eb.Error.Message == "" {
		return fmt.Sprintf("%d without the JSON error body: %q", res.StatusCode, body)
	}
	if res.StatusCode == http.StatusBadRequest && eb.Error.Param == "" {
		return fmt.Sprintf("400 names no parameter: %s", body)
	}
	return ""
}

// gen makes requests from the campaign's inputs and random bytes.
type gen struct {
	r        *rand.Rand
	exportID string
	key      string
}

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

// randomText is a short run of arbitrary bytes, percent-encoded or not.
func (g *gen) randomText() string {
	b := make([]byte, g.r.IntN(12))
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	return string(b)
}

// esc percent-encodes s in one of several ways a client might (or might
// not).
func (g *gen) esc(s string) string {
	switch g.r.IntN(4) {
	case 0:
		return url.QueryEscape(s)
	case 1:
		return url.PathEscape(s)
	case 2:
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, "%%%02x", s[i])
		}
		return b.String()
	}
	// Raw, except what the client cannot put in a request line (and what
	// would change the query's structure). A raw % stays: malformed escapes
	// are inputs too.
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f || c == '#' || c == '&' || c == '?' || c == '=' {
			fmt.Fprintf(&b, "%%%02x", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// printable is random text a header can carry.
func (g *gen) printable() string {
	b := []byte(g.randomText())
	for i := range b {
		b[i] = '!' + b[i]%94
	}
	return string(b)
}

var (
	campaignValues = []string{
		"9999-12-31T23:59:59-23:59", "0000-01-01T00:00:00+01:00", "0000-01-01T00:00:00Z", "2026-04-10T00:00:00Z",
		"2026-04-10T00:00:00.000Z", "2026-04-10T00:00:00 01:00", "10000-01-01T00:00:00Z", "2026-13-40T25:61:61Z",
		"a\x00b", "\x00", "\xff\xfe", "\xed\xa0\x80", "assesment", "assessment", "csv", "pdf", "xlsx", "CSV",
		"en", "de", "xx", "UTC", "Local", "../../etc/passwd", "Europe/Berlin", "America/New_York", "null", "",
		"=1+1", "renamed x;=1+1;y", "line one\n=2+2\nline three", strings.Repeat("a", 300), "1e10", "-1", "0",
		"https://example.com/hook", "http://127.0.0.1/", "http://[::1]/", "http://169.254.169.254/latest", "ftp://x",
		"queued", "completed", "failed", "expired", "9223372036854775808", "1e308", "NaN", "Inf", "-Inf",
		"eyJ4IjoxfQ", "%", "%zz", "]", "[", "metadata[", "\u202e", "日本",
	}
	campaignKeys = []string{
		"event_type", "event_type[]", "sub_type", "system_source", "auditee_id", "file_type", "locale", "timezone",
		"range_start", "range_end", "webhook_url", "metadata[entity_id]", "metadata[entity_id", "metadata[tag][]",
		"metadata[nope]", "metadata", "metadata[]", "range_start[]", "status", "limit", "cursor", "schedule_id",
		"created_from", "created_to", "ttl", "event_typ", "\x00", "\xff", "file_type[]", "locale[]",
	}
	campaignIDs = []string{
		"a%00b", "%00", "%ff%fe", "%ed%a0%80", "..", "%2e%2e", ".", "00000000-0000-0000-0000-000000000000",
		"not-a-uuid", strings.Repeat("x", 2000), "%2f", "a%2fb", "%20", "EXPORT",
	}
	prefers = []string{
		"wait=1e10", "wait=Inf", "wait=1e308", "wait=+Inf", "wait=-Inf", "wait=NaN", "wait=-1", "wait=0",
		"wait=0.01", `wait="1"`, "wait=", "respond-async", "respond-async, wait=5", "wait=1, wait=2", "garbage",
	}
	ranges = []string{
		"bytes=999999-", "bytes=0-0", "bytes=-1", "bytes=0-", "bytes=5-1", "bytes=0-1,2-3", "bytes=abc",
		"items=0-1", "bytes=-0", "bytes=99999999999999999999-",
	}
	contentTypes = []string{"application/json", "application/x-ndjson", "text/plain", "", "application/json; charset=latin1"}
	bodies       = []string{
		`{"events":[{"occurred_at":"0000-01-01T00:00:00+23:59","event_type":"a","sub_type":"b","system_source":"c"}]}`,
		`{"events":[{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a` + "\xff\xfe" + `","sub_type":"b","system_source":"c"}]}`,
		`{"events":[{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a\ud800","sub_type":"b","system_source":"c"}]}`,
		`{"events":[{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c","description":"\nx;=1+1"}]}`,
		`{"events":[{"id":"a\u0000b","occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c"}]}`,
		`{"events":[{"occurred_at":"9999-12-31T23:59:59-23:59","event_type":"a","sub_type":"b","system_source":"c"}]}`,
		`{"occurred_at":"2026-04-10T08:30:00Z","event_type":"a","sub_type":"b","system_source":"c"}` + "\n",
		`{"cron":"0 * * * *","name":"n` + "\xff" + `"}`,
		`{"cron":"0 * * * *","filters":{"event_type":["` + "\x00" + `"],"locale":"xx"}}`,
		`{"cron":"0 * * * *","window":{"kind":"last_hours","hours":1e400}}`,
		`{"cron":"0 * * * *","retention_days":99999999999999999999}`,
		`{"cron":"* * * * * * *"}`, `{"cron":"0 0 31 2 *"}`, `{"cron":"0 * * * *","timezone":"Local"}`,
		`{"cron":"0 * * * *","webhook_url":"http://127.0.0.1/x"}`, `{"cron":"0 * * * *","webhook_url":7}`,
		`{"cron":"0 * * * *","filters":{"range_start":"x"}}`, `{"enabled":"yes"}`, `[]`, `null`, `{`, "", "\xff",
		`{"events":[]}`, `{"events":null}`, `{"events":[1,2]}`, `{"events":[{}]}`, `{"tenant_id":"x"}`,
	}
)

func (g *gen) query(keys []string) string {
	var parts []string
	for range g.r.IntN(4) {
		var k, v string
		if g.r.IntN(6) == 0 {
			k = g.randomText()
		} else {
			k = g.pick(keys)
		}
		if g.r.IntN(5) == 0 {
			v = g.randomText()
		} else {
			v = g.pick(campaignValues)
		}
		parts = append(parts, g.esc(k)+"="+g.esc(v))
	}
	if g.r.IntN(20) == 0 {
		parts = append(parts, g.esc(g.randomText()))
	}
	return strings.Join(parts, "&")
}

func (g *gen) id() string {
	switch g.r.IntN(4) {
	case 0:
		return g.exportID
	case 1:
		return g.esc(g.randomText())
	}
	return g.pick(campaignIDs)
}

func (g *gen) request() genRequest {
	const p = "/v5/audit-sentinel"
	req := genRequest{method: http.MethodGet}
	switch g.r.IntN(12) {
	case 0, 1, 2:
		req.target = p + "/events/export?" + g.query(campaignKeys)
	case 3:
		req.target = p + "/exports?" + g.query(campaignKeys)
	case 4:
		req.target = p + "/exports/" + g.id() + g.pick([]string{"", "/file", "/manifest", "/download-url", "/deliveries"})
		req.method = g.pick([]string{"GET", "GET", "HEAD", "DELETE"})
		if g.r.IntN(2) == 0 {
			req.target += "?" + g.query(campaignKeys)
		}
	case 5:
		req.target = p + "/exports/" + g.exportID + "/file"
		req.method = g.pick([]string{"GET", "HEAD"})
	case 6:
		req.target = p + "/export-schedules"
		req.method = g.pick([]string{"GET", "POST"})
		if req.method == "GET" {
			req.target += "?" + g.query(campaignKeys)
		}
	case 7:
		req.target = p + "/export-schedules/" + g.id() + g.pick([]string{"", "", "/run", "/deliveries"})
		req.method = g.pick([]string{"GET", "PATCH", "DELETE", "POST"})
	case 8:
		req.target = p + "/events"
		req.method = "POST"
	case 9:
		req.target = p + g.pick([]string{"/signing-keys", "/webhook-secret", "/nope", "/events/export/x", ""})
		req.method = g.pick([]string{"GET", "POST", "PUT"})
	case 10:
		req.target = "/" + g.esc(g.randomText())
	default:
		req.target = p + "/events/export?" + g.query(campaignKeys)
		req.method = g.pick([]string{"POST", "DELETE", "PATCH"})
	}
	if req.method == "POST" || req.method == "PATCH" || g.r.IntN(10) == 0 {
		if g.r.IntN(8) == 0 {
			req.body = g.randomText()
		} else {
			req.body = g.pick(bodies)
		}
		req.header = append(req.header, "Content-Type", g.pick(contentTypes))
	}
	switch g.r.IntN(10) {
	case 0:
		// no key
	case 1:
		req.header = append(req.header, "apikey", g.pick([]string{"ask_" + strings.Repeat("0", 64), " ", "x", g.printable()}))
	default:
		req.header = append(req.header, "apikey", g.key)
	}
	if g.r.IntN(3) == 0 {
		req.header = append(req.header, "Prefer", g.pick(prefers))
	}
	if g.r.IntN(3) == 0 {
		req.header = append(req.header, "Range", g.pick(ranges))
	}
	if g.r.IntN(5) == 0 {
		h := g.pick([]string{"If-Match", "If-None-Match", "If-Range", "If-Modified-Since", "If-Unmodified-Since"})
		req.header = append(req.header, h, g.pick([]string{`"nope"`, "*", "Wed, 21 Oct 2015 07:28:00 GMT", "garbage", `W/"x"`}))
	}
	return req
}
