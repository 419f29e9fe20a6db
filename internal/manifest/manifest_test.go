package manifest_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/manifest"
)

// seed is a fixed test key, so that failures are reproducible.
var seed = bytes.Repeat([]byte{7}, ed25519.SeedSize)

func signer(t *testing.T) *manifest.Signer {
	t.Helper()
	s, err := manifest.NewSigner(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var file = []byte("id,occurred_at,event_type\n0190,2026-04-10T08:30:00Z,assessment\n")

func exportOf(t *testing.T) audit.Export {
	t.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600))
	created := time.Date(2026, 4, 10, 9, 0, 0, 123456789, time.UTC)
	done := created.Add(3 * time.Second)
	sum := sha256.Sum256(file)
	return audit.Export{
		ID: "exp_1", TenantID: "acme", Status: audit.StatusCompleted,
		Params: audit.ExportParams{
			Filter: audit.Filter{
				EventTypes: []string{"task", "assessment", "task"},
				Metadata:   map[string][]string{"entity_id": {"497f6eca-6276-4993-bfeb-53cbbbba6f08"}},
				RangeStart: &start,
			},
			FileType: audit.FileCSV, Locale: "en", Timezone: "Europe/Zürich",
		},
		RowsWritten: 1, SizeBytes: int64(len(file)), SHA256: hex.EncodeToString(sum[:]),
		FirstEventID: "0190", LastEventID: "0190", CreatedAt: created, CompletedAt: &done,
	}
}

func signed(t *testing.T) (manifest.Manifest, manifest.PublicKeys) {
	t.Helper()
	m, err := manifest.New(exportOf(t), "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	s := signer(t)
	m, err = s.Sign(m)
	if err != nil {
		t.Fatal(err)
	}
	keys := manifest.PublicKeys{}
	keys.Add(s.PublicKey())
	return m, keys
}

func TestSignVerify(t *testing.T) {
	m, keys := signed(t)
	if err := manifest.Verify(m, keys); err != nil {
		t.Fatal(err)
	}
	rep, err := manifest.VerifyFile(bytes.NewReader(file), m, keys)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("report not OK:\n%s", rep)
	}
	if !strings.Contains(rep.String(), "VERIFIED") {
		t.Errorf("report:\n%s", rep)
	}
	if m.Version != manifest.Version || m.KeyID != signer(t).KeyID() || len(m.KeyID) != 16 {
		t.Errorf("version %q key id %q", m.Version, m.KeyID)
	}
	if got := m.Filters.Filter.EventTypes; strings.Join(got, ",") != "assessment,task" {
		t.Errorf("filters not canonical: %v", got)
	}
	if m.RangeStart == nil || m.RangeStart.Location() != time.UTC || m.RangeEnd != nil {
		t.Errorf("range %v %v", m.RangeStart, m.RangeEnd)
	}
	if m.CreatedAt.Nanosecond() != 123456000 {
		t.Errorf("created_at not truncated to µs: %v", m.CreatedAt)
	}
}

// TestRoundTrip: what the API serves (indented or not) and a client parses
// verifies, and the canonical form is exactly as documented.
func TestRoundTrip(t *testing.T) {
	m, keys := signed(t)
	for _, indent := range []bool{false, true} {
		var b []byte
		var err error
		if indent {
			b, err = json.MarshalIndent(m, "", "  ")
		} else {
			b, err = json.Marshal(m)
		}
		if err != nil {
			t.Fatal(err)
		}
		back, err := manifest.Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := manifest.Verify(back, keys); err != nil {
			t.Fatalf("indent=%v: %v", indent, err)
		}
	}
	c, err := m.CanonicalBytes()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":"sentinel-manifest/v1","export_id":"exp_1","tenant_id":"acme",` +
		`"filters":{"filter":{"event_type":["assessment","task"],"metadata":{"entity_id":["497f6eca-6276-4993-bfeb-53cbbbba6f08"]},"range_start":"2025-12-31T23:00:00Z"},"file_type":"csv","locale":"en","timezone":"Europe/Zürich"},` +
		`"range_start":"2025-12-31T23:00:00Z","range_end":null,"row_count":1,"byte_size":` + itoa(len(file)) + `,` +
		`"sha256":"` + m.SHA256 + `","first_event_id":"0190","last_event_id":"0190",` +
		`"created_at":"2026-04-10T09:00:00.123456Z","completed_at":"2026-04-10T09:00:03.123456Z",` +
		`"service_version":"1.2.3","key_id":"` + m.KeyID + `"}`
	if string(c) != want {
		t.Fatalf("canonical bytes\n got %s\nwant %s", c, want)
	}
	sig, _ := base64.StdEncoding.DecodeString(m.Signature)
	if !ed25519.Verify(signer(t).PublicKey(), []byte(want), sig) {
		t.Fatal("the signature does not cover the documented canonical bytes")
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestFlippedByte(t *testing.T) {
	m, keys := signed(t)
	for i := range file {
		bad := bytes.Clone(file)
		bad[i] ^= 0x01
		rep, err := manifest.VerifyFile(bytes.NewReader(bad), m, keys)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() || rep.DigestOK() || !rep.SizeOK() || rep.Signature != manifest.SignatureValid {
			t.Fatalf("byte %d flipped, report:\n%s", i, rep)
		}
		if s := rep.String(); !strings.Contains(s, "sha256     MISMATCH") || !strings.Contains(s, "FAILED: the file is not") {
			t.Fatalf("report:\n%s", s)
		}
	}
	rep, _ := manifest.VerifyFile(bytes.NewReader(file[:len(file)-1]), m, keys)
	if rep.OK() || rep.SizeOK() || !strings.Contains(rep.String(), "size       MISMATCH") {
		t.Fatalf("truncated file, report:\n%s", rep)
	}
}

func TestWrongKey(t *testing.T) {
	m, _ := signed(t)
	other, _, err := manifest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	// The same key id pointing at another key: the signature fails.
	keys := manifest.PublicKeys{m.KeyID: other.Public().(ed25519.PublicKey)}
	if err := manifest.Verify(m, keys); !errors.Is(err, manifest.ErrSignature) {
		t.Fatalf("got %v, want ErrSignature", err)
	}
	rep, _ := manifest.VerifyFile(bytes.NewReader(file), m, keys)
	if rep.OK() || rep.Signature != manifest.SignatureInvalid || !strings.Contains(rep.String(), "signature  INVALID") {
		t.Fatalf("report:\n%s", rep)
	}
	// A manifest signed by another key.
	s2, _ := manifest.NewSigner(other)
	m2, _ := s2.Sign(m)
	_, keys1 := signed(t)
	if err := manifest.Verify(m2, keys1); !errors.Is(err, manifest.ErrUnknownKey) {
		t.Fatalf("got %v, want ErrUnknownKey", err)
	}
}

func TestUnknownKeyAndRotation(t *testing.T) {
	m, keys := signed(t)
	other, _, _ := manifest.GenerateKey()
	only := manifest.PublicKeys{}
	only.Add(other.Public().(ed25519.PublicKey))
	rep, _ := manifest.VerifyFile(bytes.NewReader(file), m, only)
	if rep.OK() || rep.Signature != manifest.SignatureUnknownKey || !rep.DigestOK() ||
		!strings.Contains(rep.String(), "signature  UNKNOWN") {
		t.Fatalf("report:\n%s", rep)
	}
	// After rotation both keys are published; the old manifest verifies.
	only.Add(signer(t).PublicKey())
	if err := manifest.Verify(m, only); err != nil {
		t.Fatal(err)
	}
	list := only.List()
	back, err := manifest.KeysFromList(list)
	if err != nil || len(back) != 2 || manifest.Verify(m, back) != nil {
		t.Fatalf("keys from list: %v %v", back, err)
	}
	list[0].KeyID = "0000000000000000"
	if _, err := manifest.KeysFromList(list); err == nil {
		t.Fatal("a key published under another's id was accepted")
	}
	_ = keys
	rep, _ = manifest.VerifyFile(bytes.NewReader(file), m, nil)
	if rep.OK() || rep.Signature != manifest.SignatureUnchecked || !strings.Contains(rep.String(), "SKIPPED") {
		t.Fatalf("report:\n%s", rep)
	}
	m.Signature = ""
	rep, _ = manifest.VerifyFile(bytes.NewReader(file), m, keys)
	if rep.Signature != manifest.SignatureMissing {
		t.Fatalf("report:\n%s", rep)
	}
}

func TestTamperedField(t *testing.T) {
	m, keys := signed(t)
	tamper := map[string]func(*manifest.Manifest){
		"export_id":     func(m *manifest.Manifest) { m.ExportID = "exp_2" },
		"tenant_id":     func(m *manifest.Manifest) { m.TenantID = "globex" },
		"filters":       func(m *manifest.Manifest) { m.Filters.Filter.EventTypes = []string{"assessment"} },
		"locale":        func(m *manifest.Manifest) { m.Filters.Locale = "de" },
		"range_end":     func(m *manifest.Manifest) { t := time.Now(); m.RangeEnd = &t },
		"row_count":     func(m *manifest.Manifest) { m.RowCount++ },
		"byte_size":     func(m *manifest.Manifest) { m.ByteSize++ },
		"sha256":        func(m *manifest.Manifest) { m.SHA256 = strings.Repeat("0", 64) },
		"first_event":   func(m *manifest.Manifest) { m.FirstEventID = "0189" },
		"last_event":    func(m *manifest.Manifest) { m.LastEventID = "0191" },
		"created_at":    func(m *manifest.Manifest) { m.CreatedAt = m.CreatedAt.Add(time.Microsecond) },
		"completed_at":  func(m *manifest.Manifest) { m.CompletedAt = m.CompletedAt.Add(time.Second) },
		"version":       func(m *manifest.Manifest) { m.ServiceVersion = "1.2.4" },
		"producer":      func(m *manifest.Manifest) { m.ProducerVersion = "1.2.2" },
		"signature":     func(m *manifest.Manifest) { m.Signature = "AAAA" + m.Signature[4:] },
		"bad signature": func(m *manifest.Manifest) { m.Signature = "not base64!" },
	}
	for name, f := range tamper {
		t.Run(name, func(t *testing.T) {
			m := m
			f(&m)
			if err := manifest.Verify(m, keys); !errors.Is(err, manifest.ErrSignature) {
				t.Fatalf("got %v, want ErrSignature", err)
			}
		})
	}
	// Same meaning, other spelling: still valid.
	m2 := m
	m2.Filters.Filter.EventTypes = []string{"task", "assessment"}
	cet := m.CreatedAt.In(time.FixedZone("CET", 3600))
	m2.CreatedAt = cet
	if err := manifest.Verify(m2, keys); err != nil {
		t.Fatalf("equivalent manifest: %v", err)
	}
}

func TestParse(t *testing.T) {
	m, _ := signed(t)
	b, _ := json.Marshal(m)
	extra := strings.Replace(string(b), `{"version"`, `{"note":"hi","version"`, 1)
	if _, err := manifest.Parse(strings.NewReader(extra)); !errors.Is(err, manifest.ErrFormat) {
		t.Fatalf("unknown field: got %v", err)
	}
	v2 := strings.Replace(string(b), manifest.Version, "sentinel-manifest/v2", 1)
	if _, err := manifest.Parse(strings.NewReader(v2)); !errors.Is(err, manifest.ErrFormat) {
		t.Fatalf("version: got %v", err)
	}
	if _, err := manifest.Parse(strings.NewReader(string(b) + "{}")); !errors.Is(err, manifest.ErrFormat) {
		t.Fatalf("trailing: got %v", err)
	}
}

func TestNewNeedsCompleted(t *testing.T) {
	e := exportOf(t)
	e.Status = audit.StatusRunning
	if _, err := manifest.New(e, "1"); err == nil {
		t.Fatal("manifest of a running export")
	}
}

func TestParseKey(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(seed)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	bad64 := bytes.Clone(priv)
	bad64[40] ^= 1
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"seed std", base64.StdEncoding.EncodeToString(seed), true},
		{"seed raw url", base64.RawURLEncoding.EncodeToString(seed), true},
		{"seed with newline", base64.StdEncoding.EncodeToString(seed) + "\n", true},
		{"64 bytes", base64.StdEncoding.EncodeToString(priv), true},
		{"64 bytes raw std", base64.RawStdEncoding.EncodeToString(priv), true},
		{"64 bytes mismatched", base64.StdEncoding.EncodeToString(bad64), false},
		{"PEM PKCS8", pemKey, true},
		{"PEM wrong type", strings.ReplaceAll(pemKey, "PRIVATE KEY", "RSA PRIVATE KEY"), false},
		{"PEM garbage", "-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----\n", false},
		{"16 bytes", base64.StdEncoding.EncodeToString(seed[:16]), false},
		{"31 bytes", base64.StdEncoding.EncodeToString(seed[:31]), false},
		{"not base64", "hello world!", false},
		{"not base64 either", "%%%", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := manifest.ParseKey(tt.in)
			if !tt.ok {
				if err == nil {
					t.Fatal("accepted")
				}
				// SIGNING_KEY is read with ParseKey: its errors end up in logs.
				if tt.in != "" && strings.Contains(err.Error(), tt.in) {
					t.Errorf("error echoes the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !k.Equal(priv) {
				t.Fatal("another key")
			}
			sig := ed25519.Sign(k, []byte("manifest"))
			if !ed25519.Verify(priv.Public().(ed25519.PublicKey), []byte("manifest"), sig) {
				t.Error("signature does not verify")
			}
		})
	}

	gen, b64, err := manifest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	back, err := manifest.ParseKey(b64)
	if err != nil || !back.Equal(gen) {
		t.Fatalf("generated key does not parse back: %v", err)
	}

	pub := priv.Public().(ed25519.PublicKey)
	pkix, _ := x509.MarshalPKIXPublicKey(pub)
	for _, in := range []string{
		base64.StdEncoding.EncodeToString(pub),
		string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})),
	} {
		p, err := manifest.ParsePublicKey(in)
		if err != nil || !p.Equal(pub) {
			t.Fatalf("public key %q: %v", in, err)
		}
	}
	if _, err := manifest.ParsePublicKey(base64.StdEncoding.EncodeToString(seed[:31])); err == nil {
		t.Fatal("short public key accepted")
	}
	sum := sha256.Sum256(pub)
	if manifest.KeyID(pub) != hex.EncodeToString(sum[:8]) {
		t.Fatal("key id")
	}
}

// The worker that made the file is named beside the signer, and signed:
// a manifest carrying it survives its JSON round trip and verifies. (One
// without it keeps its old canonical bytes: see TestRoundTrip.)
func TestProducerVersion(t *testing.T) {
	e := exportOf(t)
	e.ProducerVersion = "1.2.0"
	m, err := manifest.New(e, "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	s := signer(t)
	if m, err = s.Sign(m); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"service_version":"1.2.3","producer_version":"1.2.0"`) {
		t.Fatalf("manifest JSON: %s", b)
	}
	back, err := manifest.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	keys := manifest.PublicKeys{}
	keys.Add(s.PublicKey())
	if err := manifest.Verify(back, keys); err != nil || back.ProducerVersion != "1.2.0" {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}
