package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/auditsentinel/sentinel/api"
	"github.com/auditsentinel/sentinel/internal/app"
	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/demo"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/i18n"
	"github.com/auditsentinel/sentinel/internal/ingest"
	"github.com/auditsentinel/sentinel/internal/manifest"
	"github.com/auditsentinel/sentinel/internal/render/ndjson"
	"github.com/auditsentinel/sentinel/internal/schedule"
)

// loadOpenAPI parses and validates the embedded document (examples
// included) and returns it.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("load api/openapi.yaml: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("api/openapi.yaml is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("api/openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// docOperations lists the document's operations as "METHOD /path".
func docOperations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIDescribesEveryRoute keeps the document and the router in step:
// every route echo serves is documented and every documented operation is
// served.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	// Schedules is the one dependency that decides whether routes exist;
	// the handlers are never called here.
	srv := httpapi.New(httpapi.Config{
		Logger: slog.New(slog.DiscardHandler), Schedules: &schedule.Service{},
	})
	served := srv.Routes()
	documented := docOperations(doc)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is served but not in api/openapi.yaml", r)
		}
	}
	for _, op := range documented {
		if !slices.Contains(served, op) {
			t.Errorf("operation %s is in api/openapi.yaml but not served", op)
		}
	}
}

// TestOpenAPIMatchesCode checks the document's enums, limits and schemas
// against the Go values and JSON structs they describe.
func TestOpenAPIMatchesCode(t *testing.T) {
	doc := loadOpenAPI(t)
	schema := func(name string) *openapi3.Schema {
		t.Helper()
		s := doc.Components.Schemas[name]
		if s == nil || s.Value == nil {
			t.Fatalf("components.schemas.%s is missing", name)
		}
		return s.Value
	}
	param := func(name string) *openapi3.Schema {
		t.Helper()
		p := doc.Components.Parameters[name]
		if p == nil || p.Value == nil || p.Value.Schema == nil {
			t.Fatalf("components.parameters.%s is missing", name)
		}
		return p.Value.Schema.Value
	}
	enum := func(s *openapi3.Schema) []string {
		var out []string
		for _, v := range s.Enum {
			out = append(out, fmt.Sprint(v))
		}
		return out
	}
	same := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: document has %q, code has %q", what, got, want)
		}
	}
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

	same("file_type enum", enum(param("file_type")), audit.FileTypes)
	// Every operation's own file_type parameter (the archive list's) too.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.Name == "file_type" && p.Value.Schema != nil && p.Value.Schema.Value != nil {
					same(method+" "+path+" file_type enum", enum(p.Value.Schema.Value), audit.FileTypes)
				}
			}
		}
	}
	same("compression enum", enum(param("compression")), audit.Compressions)
	same("delimiter enum", sorted(enum(param("delimiter"))), sorted(slices.Collect(maps.Keys(audit.Delimiters))))
	// The NDJSON line schema is published twice, in this document and at
	// its own URL: the two say the same.
	{
		var served struct {
			Required   []string                   `json:"required"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(ndjson.Schema, &served); err != nil {
			t.Fatal(err)
		}
		doc := schema("NDJSONEvent")
		same("NDJSONEvent properties", sorted(slices.Collect(maps.Keys(doc.Properties))), sorted(slices.Collect(maps.Keys(served.Properties))))
		same("NDJSONEvent required", doc.Required, served.Required)
	}
	same("FileType enum", enum(schema("FileType")), audit.FileTypes)
	same("locale enum", enum(param("locale")), i18n.Supported())
	same("ScheduleFiltersInput.locale enum", enum(schema("ScheduleFiltersInput").Properties["locale"].Value), i18n.Supported())
	same("ExportState enum", enum(schema("ExportState")), []string{
		string(audit.StatusQueued), string(audit.StatusRunning), string(audit.StatusCompleted),
		string(audit.StatusFailed), string(audit.StatusExpired)})
	same("Window.kind enum", enum(schema("Window").Properties["kind"].Value), audit.WindowKinds)
	// The metadata parameter lists the filterable keys in the CSV's order.
	same("metadata parameter keys", metadataOrder(t, api.OpenAPI), audit.MetadataKeys)
	same("Filter.metadata keys", sorted(enum(schema("Filter").Properties["metadata"].Value.PropertyNames.Value)), sorted(audit.MetadataKeys))

	num := func(what string, got *float64, want int) {
		t.Helper()
		if got == nil || int(*got) != want {
			t.Errorf("%s: document has %v, code has %d", what, got, want)
		}
	}
	unum := func(what string, got *uint64, want int) {
		t.Helper()
		if got == nil || int(*got) != want {
			t.Errorf("%s: document has %v, code has %d", what, got, want)
		}
	}
	fv := schema("FilterValues")
	unum("FilterValues.maxItems", fv.MaxItems, export.MaxValuesPerParam)
	unum("FilterValues.items.maxLength", fv.Items.Value.MaxLength, export.MaxValueLength)
	unum("MetadataFilterValue.maxLength", schema("MetadataFilterValue").MaxLength, export.MaxValueLength)
	unum("IngestRequest.events.maxItems", schema("IngestRequest").Properties["events"].Value.MaxItems, ingest.DefaultJSONLimits().MaxEvents)
	ev := schema("Event").Properties
	unum("Event.id.maxLength", ev["id"].Value.MaxLength, ingest.MaxIDLen)
	unum("EventName.maxLength", schema("EventName").MaxLength, ingest.MaxNameLen)
	unum("Event.auditee_id.maxLength", ev["auditee_id"].Value.MaxLength, ingest.MaxNameLen)
	unum("Event.description.maxLength", ev["description"].Value.MaxLength, ingest.MaxDescriptionLen)
	unum("Event.metadata.maxProperties", ev["metadata"].Value.MaxProps, ingest.MaxMetadataKeys)
	unum("Event.metadata values maxLength", ev["metadata"].Value.AdditionalProperties.Schema.Value.MaxLength, ingest.MaxMetadataValLen)
	num("limit.maximum", param("limit").Max, httpapi.MaxListLimit)
	if d, ok := param("limit").Default.(float64); !ok || int(d) != httpapi.DefaultListLimit {
		t.Errorf("limit.default: document has %v, code has %d", param("limit").Default, httpapi.DefaultListLimit)
	}
	num("Window.hours.maximum", schema("Window").Properties["hours"].Value.Max, schedule.MaxWindowHours)
	num("Schedule.retention_days.maximum", schema("Schedule").Properties["retention_days"].Value.Max, schedule.MaxRetentionDays)
	unum("ScheduleUpdate.name.maxLength", schema("ScheduleUpdate").Properties["name"].Value.MaxLength, schedule.MaxNameLength)

	// Every JSON struct the API writes has exactly the documented
	// properties, and its fields without omitempty are required.
	for name, v := range map[string]any{
		"ExportStatus":    httpapi.ExportStatus{},
		"ExportFailure":   httpapi.ExportFailure{},
		"ArchiveEntry":    httpapi.ArchiveEntry{},
		"ArchiveList":     httpapi.ArchiveList{},
		"IngestResult":    httpapi.IngestResult{},
		"IngestProblem":   ingest.Problem{},
		"ErrorBody":       httpapi.ErrorBody{},
		"ErrorDetail":     httpapi.ErrorDetail{},
		"DownloadURL":     httpapi.DownloadURL{},
		"SigningKeys":     httpapi.SigningKeys{},
		"PublicKey":       manifest.PublicKeyInfo{},
		"Manifest":        manifest.Manifest{},
		"ManifestChain":   manifest.Chain{},
		"ExportParams":    audit.ExportParams{},
		"Filter":          audit.Filter{},
		"Schedule":        httpapi.ScheduleView{},
		"ScheduleFilters": httpapi.ScheduleFilters{},
		"ScheduleList":    httpapi.ScheduleList{},
		"Window":          audit.Window{},
		"DeliveryAttempt": httpapi.DeliveryAttempt{},
		"DeliveryList":    httpapi.DeliveryList{},
		"WebhookSecret":   httpapi.WebhookSecret{},
		"FeedPage":        httpapi.FeedPageJSON{},
		"FeedEvent":       audit.Event{},
	} {
		fields, required := jsonFields(reflect.TypeOf(v))
		// omitempty fields the handlers always fill: a served manifest is
		// signed, and every error carries the request id.
		required = append(required, alwaysSet[name]...)
		slices.Sort(required)
		props, req := schemaFields(schema(name))
		same(name+" properties", props, fields)
		same(name+" required", req, required)
	}
}

// alwaysSet lists omitempty fields that every response of the API holds.
var alwaysSet = map[string][]string{
	"Manifest":    {"signature"},
	"ErrorDetail": {"request_id"},
}

// metadataOrder returns the property names of MetadataFilterQuery in the
// order the document writes them (kin-openapi keeps a map).
func metadataOrder(t *testing.T, raw []byte) []string {
	t.Helper()
	lines := strings.Split(string(raw), "\n")
	var out []string
	in := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "    MetadataFilterQuery:"):
			in = true
		case in && strings.HasPrefix(l, "        ") && strings.Contains(l, "MetadataFilterValue"):
			out = append(out, strings.TrimSpace(strings.SplitN(l, ":", 2)[0]))
		case in && len(l) > 4 && l[4] != ' ':
			return out
		}
	}
	return out
}

// jsonFields returns the JSON names of t's fields, sorted, and those that
// are always written (no omitempty). Embedded structs are flattened.
func jsonFields(t reflect.Type) (all, required []string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			a, r := jsonFields(f.Type)
			all, required = append(all, a...), append(required, r...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
	}
	slices.Sort(all)
	slices.Sort(required)
	return all, required
}

// schemaFields returns a schema's property names and required names,
// sorted, following allOf.
func schemaFields(s *openapi3.Schema) (props, required []string) {
	for name := range s.Properties {
		props = append(props, name)
	}
	required = append(required, s.Required...)
	for _, sub := range s.AllOf {
		p, r := schemaFields(sub.Value)
		props, required = append(props, p...), append(required, r...)
	}
	slices.Sort(props)
	slices.Sort(required)
	return slices.Compact(props), slices.Compact(required)
}

var registerDecoders sync.Once

// contract sends real requests to a booted service and checks each request
// and response against the document.
type contract struct {
	t      *testing.T
	env    *apptest.Env
	doc    *openapi3.T
	router routers.Router
	// seen records "METHOD /path STATUS" of every checked exchange.
	seen map[string]bool
	mu   *sync.Mutex
	// last keeps the latest exchange per operation and status for the
	// negative check against a broken document.
	last map[string]*openapi3filter.ResponseValidationInput
}

func newContract(t *testing.T, env *apptest.Env, seen map[string]bool, mu *sync.Mutex) *contract {
	t.Helper()
	registerDecoders.Do(func() {
		// Files are opaque bytes; a partial CSV is not CSV.
		for _, ct := range []string{"text/csv", "application/pdf", "multipart/byteranges", "application/x-ndjson",
			"application/vnd.apache.parquet"} {
			openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
		}
	})
	doc := loadOpenAPI(t)
	doc.Servers = openapi3.Servers{{URL: env.URL}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return &contract{t: t, env: env, doc: doc, router: router, seen: seen, mu: mu,
		last: map[string]*openapi3filter.ResponseValidationInput{}}
}

// exchange is one request of the contract test.
type exchange struct {
	method, path string
	key          string
	body         string
	header       []string // name, value pairs
	status       int
	// invalid says the request itself breaks the document (the server's
	// refusal is what the document promises); it must then fail request
	// validation.
	invalid bool
	// unchecked skips request validation, saying why: the few forms the
	// server accepts that OpenAPI's deepObject style cannot express.
	unchecked string
}

func (c *contract) do(x exchange) (*http.Response, []byte) {
	c.t.Helper()
	newReq := func() *http.Request {
		var body io.Reader
		if x.body != "" {
			body = strings.NewReader(x.body)
		}
		req, err := http.NewRequest(x.method, c.env.URL+x.path, body)
		if err != nil {
			c.t.Fatalf("%s %s: %v", x.method, x.path, err)
		}
		if x.key != "" {
			req.Header.Set("apikey", x.key)
		}
		for i := 0; i+1 < len(x.header); i += 2 {
			req.Header.Set(x.header[i], x.header[i+1])
		}
		return req
	}
	name := x.method + " " + x.path

	req := newReq()
	route, pathParams, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Fatalf("%s: not in the document: %v", name, err)
	}
	op := x.method + " " + route.Path
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: pathParams, Route: route,
		Options: &openapi3filter.Options{
			MultiError: true,
			AuthenticationFunc: func(_ context.Context, ai *openapi3filter.AuthenticationInput) error {
				if ai.SecuritySchemeName != "apikey" || ai.RequestValidationInput.Request.Header.Get("apikey") == "" {
					return errors.New("no apikey header")
				}
				return nil
			},
		},
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case x.unchecked != "":
		c.t.Logf("%s: request not validated: %s", name, x.unchecked)
	case x.invalid && reqErr == nil:
		c.t.Errorf("%s: the request should break the document, but it validates", name)
	case !x.invalid && reqErr != nil:
		c.t.Errorf("%s: the request breaks the document: %v", name, reqErr)
	}
	if !x.invalid && strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-ndjson") {
		c.checkNDJSON(name, x.body)
	}

	res, err := c.env.Client.Do(newReq())
	if err != nil {
		c.t.Fatalf("%s: %v", name, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s: read body: %v", name, err)
	}
	if res.StatusCode != x.status {
		c.t.Fatalf("%s: status %d, want %d: %s", name, res.StatusCode, x.status, clip(body))
	}
	c.mu.Lock()
	c.seen[fmt.Sprintf("%s %d", op, res.StatusCode)] = true
	c.mu.Unlock()

	if route.Operation.Responses.Status(res.StatusCode) == nil {
		c.t.Errorf("%s: status %d is not documented for %s", name, res.StatusCode, op)
		return res, body
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s: %d response breaks the document: %v\nheaders: %v\nbody: %s", name, res.StatusCode, err, res.Header, clip(body))
	}
	if res.StatusCode == http.StatusNotModified {
		// kin-openapi does not check 304s: check the documented headers.
		for h, ref := range route.Operation.Responses.Status(304).Value.Headers {
			if ref.Value.Required && res.Header.Get(h) == "" {
				c.t.Errorf("%s: 304 lacks the required header %s", name, h)
			}
		}
	}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && !json.Valid(body) {
		c.t.Errorf("%s: invalid JSON body: %s", name, clip(body))
	}
	out.SetBodyBytes(body)
	c.last[fmt.Sprintf("%s %d", op, res.StatusCode)] = out
	return res, body
}

// checkNDJSON validates each line of an NDJSON body against the Event
// schema, which OpenAPI 3.1 cannot attach to the media type itself.
func (c *contract) checkNDJSON(name, body string) {
	c.t.Helper()
	ev := c.doc.Components.Schemas["Event"].Value
	for i, line := range strings.Split(body, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			c.t.Errorf("%s: line %d is not JSON: %v", name, i+1, err)
			continue
		}
		if err := ev.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			c.t.Errorf("%s: line %d breaks the Event schema: %v", name, i+1, err)
		}
	}
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

func jsonField(t *testing.T, body []byte, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, clip(body))
	}
	s, _ := m[field].(string)
	return s
}

const (
	apiPrefix  = "/v5/audit-sentinel"
	sampleCSV  = apiPrefix + "/events/export?file_type=csv&event_type=assessment&locale=en"
	samplePDF  = apiPrefix + "/events/export?file_type=pdf&metadata[entity_id=497f6eca-6276-4993-bfeb-53cbbbba6f08]&locale=en"
	sampleUUID = "497f6eca-6276-4993-bfeb-53cbbbba6f08"
)

// docEvents are the fixture plus two events of the sample's entity.
func docEvents() string {
	events := fixture()
	for i := range 2 {
		events = append(events, map[string]any{
			"id": fmt.Sprintf("doc-%d", i), "occurred_at": fmt.Sprintf("2026-04-1%dT08:00:00Z", i+1),
			"event_type": "assessment", "sub_type": "created", "system_source": "assessment_service",
			"metadata": map[string]any{"entity_id": sampleUUID},
		})
	}
	b, _ := json.Marshal(map[string]any{"events": events})
	return string(b)
}

// TestOpenAPIContract boots the service on real backends and checks real
// requests and responses of every operation against the document.
func TestOpenAPIContract(t *testing.T) {
	seen := map[string]bool{}
	var mu sync.Mutex
	var sample *openapi3filter.ResponseValidationInput
	t.Run("postgres+s3", func(t *testing.T) {
		_, seed, err := manifest.GenerateKey()
		apptest.Must(t, err)
		env := apptest.Boot(t, apptest.Options{Database: "postgres", Storage: "s3", Env: map[string]string{
			"SIGNING_KEY": seed, "PDF_MAX_EVENTS": "20", "WEBHOOK_ALLOW_PRIVATE": "true",
		}})
		c := newContract(t, env, seen, &mu)
		contractMain(t, c)
		sample = c.last["GET /v5/audit-sentinel/exports/{id} 200"]
	})
	t.Run("sqlite+file", func(t *testing.T) {
		env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file", NoWorker: true})
		c := newContract(t, env, seen, &mu)
		contractLocal(t, c)
	})
	if t.Failed() {
		return
	}

	// Every operation was exercised, and each with at least one success.
	doc := loadOpenAPI(t)
	var missed []string
	for _, op := range docOperations(doc) {
		method, path, _ := strings.Cut(op, " ")
		item := doc.Paths.Find(path)
		ok := false
		for st := range item.GetOperation(method).Responses.Map() {
			if seen[op+" "+st] && st[0] == '2' {
				ok = true
			}
			if !seen[op+" "+st] {
				missed = append(missed, op+" "+st)
			}
		}
		if !ok {
			t.Errorf("no successful exchange checked for %s", op)
		}
	}
	t.Logf("%d documented statuses checked; not provoked by this test: %s", len(seen), strings.Join(missed, ", "))

	// The check has teeth: a recorded real response fails against a
	// document whose ExportStatus lost a field.
	if sample == nil {
		t.Fatal("no export status response recorded")
	}
	broken := loadOpenAPI(t)
	delete(broken.Components.Schemas["ExportStatusFields"].Value.Properties, "rows_written")
	sample.RequestValidationInput.Route.Spec = broken
	sample.RequestValidationInput.Route.Operation = broken.Paths.Find("/v5/audit-sentinel/exports/{id}").Get
	if err := openapi3filter.ValidateResponse(context.Background(), sample); err == nil {
		t.Error("a response validated against a document missing ExportStatus.rows_written; the contract check is toothless")
	}
}

// contractMain runs the bulk of the exchanges on PostgreSQL and S3 with a
// worker, a signing key and a PDF cap of 20.
func contractMain(t *testing.T, c *contract) {
	key := c.env.Key("acme")
	other := c.env.Key("globex")
	ctJSON := [2]string{"Content-Type", "application/json"}
	hdr := func(kv ...string) []string { return kv }

	// Service endpoints.
	c.do(exchange{method: "GET", path: "/healthz", status: 200})
	c.do(exchange{method: "GET", path: "/readyz", status: 200})
	c.do(exchange{method: "GET", path: "/metrics", status: 200})
	_, served := c.do(exchange{method: "GET", path: "/openapi.yaml", status: 200})
	if !bytes.Equal(served, api.OpenAPI) {
		t.Error("GET /openapi.yaml does not serve api/openapi.yaml")
	}

	// Ingest: JSON, NDJSON and the refusals.
	ev := apiPrefix + "/events"
	c.do(exchange{method: "POST", path: ev, key: key, body: docEvents(), header: ctJSON[:], status: 200})
	c.do(exchange{method: "POST", path: ev, key: key, body: docEvents(), header: ctJSON[:], status: 200}) // all duplicates
	nd := `{"occurred_at":"2026-04-12T08:00:00Z","event_type":"task","sub_type":"created","system_source":"task_platform"}` + "\n\n" +
		`{"id":"nd-2","occurred_at":"2026-04-12T09:00:00Z","event_type":"task","sub_type":"updated","system_source":"task_platform","metadata":{"tag":"x"}}` + "\n"
	c.do(exchange{method: "POST", path: ev, key: key, body: nd, header: hdr("Content-Type", "application/x-ndjson"), status: 200})
	_, body := c.do(exchange{method: "POST", path: ev, key: key, header: ctJSON[:], status: 400, invalid: true,
		body: `{"events":[{"occurred_at":"yesterday","event_type":"","sub_type":"x","system_source":"y","tenant_id":"evil"}]}`})
	if !strings.Contains(string(body), `"details":[`) {
		t.Errorf("ingest 400 lacks per-event details: %s", body)
	}
	c.do(exchange{method: "POST", path: ev, key: key, header: ctJSON[:], status: 400, invalid: true, body: `{"events":[`})
	c.do(exchange{method: "POST", path: ev, key: key, header: hdr("Content-Type", "text/plain"), status: 400, invalid: true, body: "hello"})
	c.do(exchange{method: "POST", path: ev, header: ctJSON[:], status: 401, invalid: true, body: docEvents()})
	c.do(exchange{method: "POST", path: ev, key: "ask_nope", header: ctJSON[:], status: 401, body: docEvents()})
	var many strings.Builder
	many.WriteString(`{"events":[`)
	for i := range ingest.DefaultJSONLimits().MaxEvents + 1 {
		if i > 0 {
			many.WriteByte(',')
		}
		fmt.Fprintf(&many, `{"occurred_at":"2026-04-10T00:00:00Z","event_type":"t","sub_type":"s","system_source":"x","id":"m%d"}`, i)
	}
	many.WriteString(`]}`)
	c.do(exchange{method: "POST", path: ev, key: key, header: ctJSON[:], status: 413, invalid: true, body: many.String()})

	// The feed: JSON pages, NDJSON, a cursor, the refusals.
	_, body = c.do(exchange{method: "GET", path: ev + "?limit=2&event_type=task", key: key, status: 200})
	next := jsonField(t, body, "next_cursor")
	c.do(exchange{method: "GET", path: ev + "?limit=2&cursor=" + url.QueryEscape(next) + "&metadata[entity_id]=ent-1&range_start=2020-01-01T00:00:00Z", key: key, status: 200})
	c.do(exchange{method: "GET", path: ev + "?format=ndjson", key: key, status: 200})
	c.do(exchange{method: "GET", path: ev, key: key, header: hdr("Accept", "application/x-ndjson"), status: 200})
	c.do(exchange{method: "GET", path: ev + "?cursor=nonsense", key: key, status: 400})
	c.do(exchange{method: "GET", path: ev + "?limit=0", key: key, status: 400, invalid: true})
	c.do(exchange{method: "GET", path: ev + "?format=xml", key: key, status: 400, invalid: true})
	c.do(exchange{method: "GET", path: ev + "?file_type=csv", key: key, status: 400})
	c.do(exchange{method: "GET", path: ev, status: 401, invalid: true})

	// The export endpoint: the reference document's two samples, as written.
	res, csvBody := c.do(exchange{method: "GET", path: sampleCSV, key: key, status: 200})
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || len(csvBody) == 0 {
		t.Fatalf("CSV sample: %s %q", res.Header.Get("Content-Type"), clip(csvBody))
	}
	etag := res.Header.Get("ETag")
	res, pdf := c.do(exchange{method: "GET", path: samplePDF, key: key, status: 200})
	if res.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("PDF sample: %s %q", res.Header.Get("Content-Type"), clip(pdf))
	}
	pdfID := res.Header.Get("X-Export-Id")
	// Ranges and conditions on the export endpoint itself.
	c.do(exchange{method: "GET", path: sampleCSV, key: key, header: hdr("Range", "bytes=0-9"), status: 206})
	c.do(exchange{method: "GET", path: sampleCSV, key: key, header: hdr("If-None-Match", etag), status: 304})
	// The array forms, metadata filters and scalar defaults.
	c.do(exchange{method: "GET", key: key, status: 200, path: apiPrefix + "/events/export?event_type=task&event_type=workflow" +
		"&sub_type[]=created&system_source=task_platform&auditee_id[]=user-1&auditee_id=user-2" +
		"&metadata[entity_id]=ent-1&metadata[assessment_id]=asm-1" +
		"&range_start=2026-04-10T00:00:00.000Z&range_end=2026-04-12T00:00:00Z&timezone=America/New_York&locale=de&file_type=csv"})
	c.do(exchange{method: "GET", key: key, status: 200, path: apiPrefix + "/events/export?timezone=null&range_end=&file_type=CSV", invalid: true})
	noDeep := "deepObject has no repeated or [] keys"
	c.do(exchange{method: "GET", key: key, status: 200, unchecked: noDeep,
		path: apiPrefix + "/events/export?metadata[entity_id]=ent-1&metadata[entity_id]=ent-2"})
	c.do(exchange{method: "GET", key: key, status: 200, unchecked: noDeep, path: apiPrefix + "/events/export?metadata[tag][]=x"})
	// 202, then the status document, the file and its ranges.
	res, body = c.do(exchange{method: "GET", key: key, status: 202, header: hdr("Prefer", "respond-async"),
		path: apiPrefix + "/events/export?event_type=assessment&sub_type=deleted"})
	id := jsonField(t, body, "id")
	if res.Header.Get("Location") != apiPrefix+"/exports/"+id || res.Header.Get("Preference-Applied") != "respond-async" {
		t.Errorf("202 Location %q, Preference-Applied %q", res.Header.Get("Location"), res.Header.Get("Preference-Applied"))
	}
	c.env.WaitExport(key, id)
	exp := apiPrefix + "/exports/" + id
	c.do(exchange{method: "GET", path: exp, key: key, status: 200})
	res, _ = c.do(exchange{method: "GET", path: exp + "/file", key: key, status: 200})
	etag = res.Header.Get("ETag")
	c.do(exchange{method: "GET", path: exp + "/file", key: key, header: hdr("Range", "bytes=5-"), status: 206})
	c.do(exchange{method: "GET", path: exp + "/file", key: key, header: hdr("Range", "bytes=0-1,4-6"), status: 206})
	c.do(exchange{method: "GET", path: exp + "/file", key: key, header: hdr("Range", "bytes=999999-"), status: 416})
	c.do(exchange{method: "GET", path: exp + "/file", key: key, header: hdr("If-None-Match", etag), status: 304})
	c.do(exchange{method: "GET", path: exp + "/file", key: key, header: hdr("If-Match", `"nope"`), status: 412})
	c.do(exchange{method: "GET", path: exp + "/file", key: key, header: hdr("Range", "bytes=0-3", "If-Range", etag), status: 206})
	// Content coding: both codings, HEAD, the coded ETag's 304, a refusal,
	// and the export endpoint's own answer.
	for _, ce := range []string{"zstd", "gzip"} {
		res, _ := c.do(exchange{method: "GET", path: exp + "/file", key: key, header: hdr("Accept-Encoding", ce), status: 200})
		if res.Header.Get("Content-Encoding") != ce || res.Trailer.Get("Repr-Digest") == "" {
			t.Errorf("Accept-Encoding %s: headers %v, trailers %v", ce, res.Header, res.Trailer)
		}
		c.do(exchange{method: "GET", path: exp + "/file", key: key, status: 304,
			header: hdr("Accept-Encoding", ce, "If-None-Match", res.Header.Get("ETag"))})
	}
	c.do(exchange{method: "HEAD", path: exp + "/file", key: key, header: hdr("Accept-Encoding", "zstd"), status: 200})
	c.do(exchange{method: "GET", path: exp + "/file", key: key, header: hdr("Accept-Encoding", "identity;q=0"), status: 406})
	c.do(exchange{method: "HEAD", path: exp + "/file", key: key, header: hdr("Accept-Encoding", "br, *;q=0"), status: 406})
	if res, _ := c.do(exchange{method: "GET", path: sampleCSV, key: key, header: hdr("Accept-Encoding", "gzip;q=0.5, zstd"), status: 200}); res.Header.Get("Content-Encoding") != "zstd" {
		t.Errorf("export endpoint with zstd preferred: headers %v", res.Header)
	}
	c.do(exchange{method: "GET", path: sampleCSV, key: key, header: hdr("Accept-Encoding", "identity;q=0"), status: 406})
	c.do(exchange{method: "GET", path: exp, key: other, status: 404})
	c.do(exchange{method: "GET", path: exp + "/file", key: other, status: 404})
	c.do(exchange{method: "HEAD", path: exp + "/file", key: key, status: 200})
	c.do(exchange{method: "HEAD", path: exp + "/file", key: other, status: 404})
	c.do(exchange{method: "GET", path: apiPrefix + "/exports/not-a-uuid", key: key, status: 404})
	c.do(exchange{method: "GET", path: exp, status: 401, invalid: true})

	// Every kind of 400 of the export endpoint.
	for _, bad := range []struct {
		query     string
		invalid   bool
		header    []string
		unchecked string
	}{
		{query: "event_typ=assessment"},
		{query: "file_type=xlsx", invalid: true},
		{query: "locale=xx", invalid: true},
		{query: "timezone=Mars/Olympus_Mons"},
		{query: "timezone=Local"},
		{query: "range_start=yesterday", invalid: true},
		{query: "range_start=2026-04-12T00:00:00Z&range_end=2026-04-10T00:00:00Z"},
		{query: "metadata[colour]=red", unchecked: "kin-openapi ignores deepObject keys outside the schema"},
		{query: "metadata=x"},
		{query: "file_type[]=csv"},
		{query: "locale=en&locale=de"},
		{query: "event_type=" + strings.Repeat("a", export.MaxValueLength+1), invalid: true},
		{query: "event_type=" + strings.Repeat("x&event_type=", export.MaxValuesPerParam) + "x", invalid: true},
		{query: "event_type=", invalid: true},
		{query: "file_type=pdf"}, // over the PDF cap of 20
		{query: "event_type=task", header: []string{"Prefer", "wait=soon"}},
		{query: "event_type=%zz"},
		{query: "columns=event_id,colour"},
		{query: "file_type=pdf&compression=gzip"},
		{query: "file_type=ndjson&delimiter=tab"},
		{query: "file_type=parquet&compression=zstd"},
		{query: "file_type=parquet&bom=true"},
		{query: "bom=maybe", invalid: true},
	} {
		c.do(exchange{method: "GET", path: apiPrefix + "/events/export?" + bad.query, key: key, status: 400,
			invalid: bad.invalid, header: bad.header, unchecked: bad.unchecked})
	}
	c.do(exchange{method: "GET", path: sampleCSV, status: 401, invalid: true})
	c.do(exchange{method: "GET", path: sampleCSV, key: "ask_wrong", status: 401})

	// Machine formats and file options, and the NDJSON schema (no key).
	c.do(exchange{method: "GET", path: apiPrefix + "/schemas/event.ndjson.json", status: 200})
	c.do(exchange{method: "GET", path: apiPrefix + "/events/export?file_type=ndjson&columns=event_id,occurred_at,metadata", key: key, status: 200})
	c.do(exchange{method: "GET", path: apiPrefix + "/events/export?file_type=ndjson&compression=zstd", key: key, status: 200})
	c.do(exchange{method: "GET", path: apiPrefix + "/events/export?file_type=parquet", key: key, status: 200})
	c.do(exchange{method: "GET", path: apiPrefix + "/events/export?file_type=parquet&columns=occurred_at,event_id", key: key, status: 200})
	// A Parquet reader starts at the footer: a suffix range.
	c.do(exchange{method: "GET", path: apiPrefix + "/events/export?file_type=parquet", key: key, header: hdr("Range", "bytes=-8"), status: 206})
	c.do(exchange{method: "GET", path: apiPrefix + "/events/export?compression=gzip&bom=true&delimiter=semicolon", key: key, status: 200})

	// Listing, links, manifests and keys.
	ex := apiPrefix + "/exports"
	c.do(exchange{method: "GET", path: ex, key: key, status: 200})
	res, _ = c.do(exchange{method: "GET", path: ex + "?limit=1&status=completed,running&status[]=queued&file_type=csv&created_from=2020-01-01T00:00:00Z", key: key, status: 200})
	if res.Header.Get("Link") == "" {
		t.Error("a first page of one lacks the Link header")
	}
	c.do(exchange{method: "GET", path: ex + "?limit=0", key: key, status: 400, invalid: true})
	c.do(exchange{method: "GET", path: ex + "?status=lost", key: key, status: 400, invalid: true})
	c.do(exchange{method: "GET", path: ex + "?cursor=nonsense", key: key, status: 400})
	c.do(exchange{method: "GET", path: ex + "?sort=asc", key: key, status: 400})
	c.do(exchange{method: "GET", path: ex, status: 401, invalid: true})
	c.do(exchange{method: "GET", path: exp + "/download-url", key: key, status: 200})
	c.do(exchange{method: "GET", path: exp + "/download-url?ttl=2h", key: key, status: 200})
	c.do(exchange{method: "GET", path: exp + "/download-url?ttl=1s", key: key, status: 400})
	c.do(exchange{method: "GET", path: exp + "/download-url?expires=1", key: key, status: 400})
	c.do(exchange{method: "GET", path: exp + "/download-url", key: other, status: 404})
	c.do(exchange{method: "GET", path: exp + "/manifest", key: key, status: 200})
	c.do(exchange{method: "GET", path: apiPrefix + "/exports/" + pdfID + "/manifest", key: key, status: 200})
	c.do(exchange{method: "GET", path: exp + "/manifest", key: other, status: 404})
	contractChain(t, c, key)
	_, body = c.do(exchange{method: "GET", path: apiPrefix + "/signing-keys", key: key, status: 200})
	if !strings.Contains(string(body), `"Ed25519"`) {
		t.Errorf("signing keys: %s", body)
	}
	// Public keys: served without an API key (security: []).
	c.do(exchange{method: "GET", path: apiPrefix + "/signing-keys", status: 200})

	// Schedules, a run, its webhook deliveries.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(hook.Close)
	sp := apiPrefix + "/export-schedules"
	create := `{"name":"Weekly","cron":"0 6 * * 1","timezone":"Europe/Berlin","window":{"kind":"previous_week"},` +
		`"filters":{"event_type":["task"],"metadata":{"entity_id":["ent-1"]},"locale":"de","timezone":"Europe/Berlin"},` +
		`"webhook_url":"` + hook.URL + `/hook"}`
	res, body = c.do(exchange{method: "POST", path: sp, key: key, header: ctJSON[:], body: create, status: 201})
	sid := jsonField(t, body, "id")
	if jsonField(t, body, "webhook_secret") == "" || res.Header.Get("Location") != sp+"/"+sid {
		t.Errorf("created schedule: %s %s", res.Header.Get("Location"), body)
	}
	c.do(exchange{method: "POST", path: sp, key: key, header: ctJSON[:], status: 201,
		body: `{"name":"Hourly","cron":"0 * * * *","timezone":"UTC","window":{"kind":"last_hours","hours":1},"enabled":false}`})
	c.do(exchange{method: "POST", path: sp, key: key, header: ctJSON[:], status: 400, invalid: true,
		body: `{"name":"x","cron":"0 6 * * 1","timezone":"UTC","window":{"kind":"previous_week"},"colour":"red"}`})
	c.do(exchange{method: "POST", path: sp, key: key, header: ctJSON[:], status: 400,
		body: `{"name":"x","cron":"61 6 * * 1","timezone":"UTC","window":{"kind":"previous_week"}}`})
	c.do(exchange{method: "POST", path: sp, key: key, header: ctJSON[:], status: 400,
		body: `{"name":"x","cron":"0 6 * * 1","timezone":"UTC","window":{"kind":"previous_week"},"filters":{"timezone":"Nowhere/Land"}}`})
	c.do(exchange{method: "POST", path: sp, key: key, header: ctJSON[:], status: 413, invalid: true,
		body: `{"name":"` + strings.Repeat("n", httpapi.MaxScheduleBody) + `"}`})
	c.do(exchange{method: "POST", path: sp, header: ctJSON[:], body: create, status: 401, invalid: true})
	c.do(exchange{method: "GET", path: sp, key: key, status: 200})
	c.do(exchange{method: "GET", path: sp + "?limit=1", key: key, status: 200})
	c.do(exchange{method: "GET", path: sp + "?limit=501", key: key, status: 400, invalid: true})
	c.do(exchange{method: "GET", path: sp + "?page=2", key: key, status: 400})
	one := sp + "/" + sid
	c.do(exchange{method: "GET", path: one, key: key, status: 200})
	c.do(exchange{method: "GET", path: one, key: other, status: 404})
	c.do(exchange{method: "PATCH", path: one, key: key, header: ctJSON[:], body: `{"enabled":false,"webhook_url":null}`, status: 200})
	c.do(exchange{method: "PATCH", path: one, key: key, header: ctJSON[:], body: `{"webhook_url":"` + hook.URL + `/hook","enabled":true}`, status: 200})
	c.do(exchange{method: "PATCH", path: one, key: key, header: ctJSON[:], body: `{"retention_days":0}`, status: 400, invalid: true})
	c.do(exchange{method: "PATCH", path: one, key: key, header: ctJSON[:], body: `{"window":{"kind":"fortnight"}}`, status: 400, invalid: true})
	c.do(exchange{method: "PATCH", path: one, key: other, header: ctJSON[:], body: `{"enabled":false}`, status: 404})
	_, body = c.do(exchange{method: "POST", path: one + "/run", key: key, status: 202})
	runID := jsonField(t, body, "id")
	c.do(exchange{method: "POST", path: sp + "/00000000-0000-0000-0000-000000000000/run", key: key, status: 404})
	if st := c.env.WaitExport(key, runID); st["status"] != "completed" {
		t.Fatalf("scheduled run: %v", st)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body = c.do(exchange{method: "GET", path: one + "/deliveries", key: key, status: 200})
		if strings.Contains(string(body), `"delivery_id"`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(string(body), `"succeeded":true`) {
		t.Errorf("no successful delivery listed: %s", body)
	}
	c.do(exchange{method: "GET", path: one + "/deliveries?limit=1&cursor=bad", key: key, status: 400})
	c.do(exchange{method: "GET", path: one + "/deliveries", key: other, status: 404})
	c.do(exchange{method: "GET", path: ex + "?schedule_id=" + sid, key: key, status: 200})
	c.do(exchange{method: "DELETE", path: one, key: other, status: 404})
	c.do(exchange{method: "DELETE", path: one, key: key, status: 204})
	c.do(exchange{method: "DELETE", path: one, key: key, status: 404})

	// An on-demand export with a webhook: refused until the tenant has a
	// secret, then delivered and listed.
	withHook := apiPrefix + "/events/export?event_type=task&webhook_url=" + url.QueryEscape(hook.URL+"/on-demand")
	c.do(exchange{method: "GET", path: withHook, key: key, status: 409})
	c.do(exchange{method: "GET", path: apiPrefix + "/events/export?webhook_url=ftp://example.com/x", key: key, status: 400})
	c.do(exchange{method: "GET", path: apiPrefix + "/events/export?webhook_url[]=https://example.com/x", key: key, status: 400})
	ws := apiPrefix + "/webhook-secret"
	c.do(exchange{method: "POST", path: ws, status: 401, invalid: true})
	_, body = c.do(exchange{method: "POST", path: ws, key: key, status: 201})
	if !strings.HasPrefix(jsonField(t, body, "secret"), "whsec_") {
		t.Errorf("webhook secret: %s", body)
	}
	_, body = c.do(exchange{method: "GET", path: withHook, key: key, status: 202, header: hdr("Prefer", "respond-async")})
	hookID := jsonField(t, body, "id")
	c.env.WaitExport(key, hookID)
	hd := apiPrefix + "/exports/" + hookID + "/deliveries"
	deadline = time.Now().Add(30 * time.Second)
	for {
		_, body = c.do(exchange{method: "GET", path: hd, key: key, status: 200})
		if strings.Contains(string(body), `"succeeded":true`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(string(body), `"succeeded":true`) {
		t.Errorf("no successful on-demand delivery listed: %s", body)
	}
	c.do(exchange{method: "GET", path: hd + "?limit=1", key: key, status: 200})
	c.do(exchange{method: "GET", path: hd + "?cursor=bad", key: key, status: 400})
	c.do(exchange{method: "GET", path: hd, key: other, status: 404})
	c.do(exchange{method: "GET", path: hd, status: 401, invalid: true})

	// Deleting an export.
	c.do(exchange{method: "DELETE", path: exp, key: other, status: 404})
	c.do(exchange{method: "DELETE", path: exp, key: key, status: 204})
	c.do(exchange{method: "GET", path: exp, key: key, status: 404})
	c.do(exchange{method: "DELETE", path: exp, status: 401, invalid: true})

	// A CSV large enough to be streamed while it renders: the live form of
	// the export's 200 (chunked, checksums as trailers) is documented too.
	bigKey := c.env.Key("bigco")
	c.env.SeedDemo(demo.Config{Seed: 5, TenantID: "bigco", Now: time.Now().UTC(), Days: 10, Events: 20_000})
	res, _ = c.do(exchange{method: "GET", path: apiPrefix + "/events/export?file_type=csv", key: bigKey, status: 200})
	if res.ContentLength != -1 || res.Trailer.Get("X-Checksum-SHA256") == "" {
		t.Errorf("the 20,000-event export was not streamed live: Content-Length %d, trailers %v", res.ContentLength, res.Trailer)
	}

	contractScopes(t, c)
	contractRetention(t, c)
}

// contractLocal covers what needs local storage, no signing key, or an
// export that no worker has picked up yet.
func contractLocal(t *testing.T, c *contract) {
	key := c.env.Key("acme")
	c.do(exchange{method: "POST", path: apiPrefix + "/events", key: key, body: docEvents(),
		header: []string{"Content-Type", "application/json"}, status: 200})

	// No worker yet: the export stays queued.
	_, body := c.do(exchange{method: "GET", path: sampleCSV, key: key, header: []string{"Prefer", "wait=0.2"}, status: 202})
	id := jsonField(t, body, "id")
	exp := apiPrefix + "/exports/" + id
	c.do(exchange{method: "GET", path: exp, key: key, status: 200})
	// (The manifest answers 501 before it looks at the export here.)
	for _, p := range []string{"/file", "/download-url"} {
		c.do(exchange{method: "GET", path: exp + p, key: key, status: 409})
	}
	c.do(exchange{method: "DELETE", path: exp, key: key, status: 409})
	c.do(exchange{method: "GET", path: apiPrefix + "/exports?status=queued", key: key, status: 200})
	_, body = c.do(exchange{method: "GET", path: apiPrefix + "/signing-keys", key: key, status: 200})
	if !strings.Contains(string(body), `"keys":[]`) {
		t.Errorf("signing keys without SIGNING_KEY: %s", body)
	}

	// A worker finishes it; local storage has no presigned links and this
	// deployment signs no manifests.
	w := app.NewWorker(c.env.Config, slog.New(slog.DiscardHandler), c.env.Deps)
	apptest.Must(t, w.Start())
	t.Cleanup(w.Shutdown)
	if st := c.env.WaitExport(key, id); st["status"] != "completed" {
		t.Fatalf("export: %v", st)
	}
	c.do(exchange{method: "GET", path: exp + "/download-url", key: key, status: 501})
	c.do(exchange{method: "GET", path: exp + "/manifest", key: key, status: 501})
	c.do(exchange{method: "GET", path: exp + "/file", key: key, status: 200})

	// A file that is no longer stored is gone.
	dir := strings.TrimPrefix(c.env.Vars["STORAGE_URL"], "file://")
	var removed bool
	apptest.Must(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(filepath.Base(p), id) {
			removed = true
			return os.Remove(p)
		}
		return err
	}))
	if !removed {
		t.Fatalf("no stored file of export %s under %s", id, dir)
	}
	c.do(exchange{method: "GET", path: exp + "/file", key: key, status: 410})
	c.do(exchange{method: "GET", path: sampleCSV, key: key, status: 410})
}
