package console

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/manifest"
)

func TestJudgeManifest(t *testing.T) {
	key, _, err := manifest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := manifest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := manifest.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 4, 10, 8, 0, 0, 0, time.UTC)
	size := int64(1234)
	st := httpapi.ExportStatus{ID: "exp_1", Status: "completed", SHA256: "ab12", SizeBytes: &size}
	signed, err := signer.Sign(manifest.Manifest{ExportID: "exp_1", TenantID: "acme", RowCount: 5, ByteSize: size,
		SHA256: "ab12", CreatedAt: at, CompletedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	ours := manifest.PublicKeys{}
	ours.Add(key.Public().(ed25519.PublicKey))
	theirs := manifest.PublicKeys{}
	theirs.Add(other.Public().(ed25519.PublicKey))
	ok := func(m manifest.Manifest) apiResult {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return apiResult{status: http.StatusOK, body: b}
	}
	failed := func(status int, code string) apiResult {
		b, _ := json.Marshal(httpapi.ErrorBody{Error: httpapi.ErrorDetail{Code: code, Message: "refused"}})
		return apiResult{status: status, body: b}
	}
	altered := signed
	altered.RowCount = 6
	unsigned := signed
	unsigned.Signature = ""
	otherFile := st
	otherFile.SHA256 = "cd34"
	for _, c := range []struct {
		name string
		res  apiResult
		st   httpapi.ExportStatus
		keys manifest.PublicKeys
		want signatureState
	}{
		{"signed by the server's key", ok(signed), st, ours, sigValid},
		{"altered after signing", ok(altered), st, ours, sigInvalid},
		{"signed by a key the server does not publish", ok(signed), st, theirs, sigInvalid},
		{"not signed", ok(unsigned), st, ours, sigInvalid},
		{"about another file", ok(signed), otherFile, ours, sigInvalid},
		{"not a manifest", apiResult{status: http.StatusOK, body: []byte(`{"surprise":1}`)}, st, ours, sigInvalid},
		{"SIGNING_KEY unset", failed(http.StatusNotImplemented, audit.ENOTIMPLEMENTED), st, ours, sigDisabled},
		{"the key may not read it", failed(http.StatusForbidden, audit.EFORBIDDEN), st, ours, sigUnchecked},
	} {
		got := judgeManifest(c.res, c.st, c.keys)
		if got.State != c.want {
			t.Errorf("%s: %+v, want %s", c.name, got, c.want)
		}
		if c.want == sigValid && got.KeyID != signer.KeyID() {
			t.Errorf("%s: key id %q, want %q", c.name, got.KeyID, signer.KeyID())
		}
		if c.want != sigValid && got.Detail == "" {
			t.Errorf("%s: no detail says why", c.name)
		}
	}
}
