package app_test

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/manifest"
)

// TestWhoExportedWhat: an export records the key that asked for it, in its
// status, the archive list (filterable) and its signed manifest.
func TestWhoExportedWhat(t *testing.T) {
	priv, seed, err := manifest.GenerateKey()
	apptest.Must(t, err)
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file", Env: map[string]string{"SIGNING_KEY": seed}})
	admin := env.Key("acme")
	env.Ingest(admin, fixture())
	res, body := env.Do(http.MethodPost, httpapi.Prefix+"/api-keys", admin,
		strings.NewReader(`{"name":"auditor bob","scopes":["events:read"]}`), "Content-Type", "application/json")
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create key: %d %s", res.StatusCode, body)
	}
	reader, readerID := jsonField(t, body, "secret"), jsonField(t, body, "id")

	res, body = env.Do(http.MethodGet, exportPath+"?event_type=task", reader, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export: %d %s", res.StatusCode, body)
	}
	id := res.Header.Get("X-Export-Id")
	var st httpapi.ExportStatus
	res, body = env.Do(http.MethodGet, httpapi.Prefix+"/exports/"+id, reader, nil)
	apptest.Must(t, json.Unmarshal(body, &st))
	if res.StatusCode != http.StatusOK || st.RequestedBy == nil || st.RequestedBy.KeyID != readerID || st.RequestedBy.KeyName != "auditor bob" {
		t.Fatalf("status requested_by = %+v: %s", st.RequestedBy, body)
	}
	// An identical request by another key attaches; the record still
	// names who created it.
	if res, _ := env.Do(http.MethodGet, exportPath+"?event_type=task", admin, nil); res.Header.Get("X-Export-Id") != id {
		t.Fatalf("identical request made another export %s", res.Header.Get("X-Export-Id"))
	}
	env.Do(http.MethodGet, exportPath+"?event_type=workflow", admin, nil)

	list := func(q string) []string {
		t.Helper()
		res, body := env.Do(http.MethodGet, httpapi.Prefix+"/exports?"+q, admin, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("list %s: %d %s", q, res.StatusCode, body)
		}
		var l httpapi.ArchiveList
		apptest.Must(t, json.Unmarshal(body, &l))
		var ids []string
		for _, e := range l.Exports {
			if e.RequestedBy == nil {
				t.Errorf("listed export %s has no requester", e.ID)
			}
			ids = append(ids, e.ID)
		}
		return ids
	}
	if got := list("requested_by=key:" + readerID); len(got) != 1 || got[0] != id {
		t.Errorf("requested_by=key:reader: %v, want [%s]", got, id)
	}
	if got := list(""); len(got) != 2 {
		t.Errorf("all exports: %v", got)
	}
	if got := list("requested_by=key:nobody"); len(got) != 0 {
		t.Errorf("requested_by=key:nobody: %v", got)
	}
	if res, body := env.Do(http.MethodGet, httpapi.Prefix+"/exports?requested_by=bob", admin, nil); res.StatusCode != 400 ||
		errorOf(t, body).Param != "requested_by" {
		t.Errorf("requested_by=bob: %d %s", res.StatusCode, body)
	}

	res, body = env.Do(http.MethodGet, httpapi.Prefix+"/exports/"+id+"/manifest", reader, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("manifest: %d %s", res.StatusCode, body)
	}
	m, err := manifest.Parse(strings.NewReader(string(body)))
	apptest.Must(t, err)
	if m.RequestedBy == nil || m.RequestedBy.KeyID != readerID || m.RequestedBy.KeyName != "auditor bob" {
		t.Fatalf("manifest requested_by = %+v", m.RequestedBy)
	}
	keys := manifest.PublicKeys{}
	keys.Add(priv.Public().(ed25519.PublicKey))
	if err := manifest.Verify(m, keys); err != nil {
		t.Fatalf("manifest with a requester does not verify: %v", err)
	}
}
