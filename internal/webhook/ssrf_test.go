package webhook

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
)

func TestAddrAllowed(t *testing.T) {
	refused := []string{
		"127.0.0.1", "127.1.2.3", "::1", "0.0.0.0", "::", "0.1.2.3",
		"10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"169.254.169.254", "169.254.0.1", "fe80::1", "fe80::1%eth0",
		"100.64.0.1", "100.127.255.255", "fc00::1", "fd12:3456::1", "fd00:ec2::254",
		"224.0.0.1", "239.255.255.250", "ff02::1", "255.255.255.255", "240.0.0.1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1",
		"64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
		"2002:7f00:1::1",     // 6to4 of 127.0.0.1
		"192.0.0.170", "198.18.0.1", "2001:db8::1",
	}
	for _, s := range refused {
		if AddrAllowed(netip.MustParseAddr(s)) {
			t.Errorf("%s allowed, want refused", s)
		}
	}
	allowed := []string{
		"93.184.216.34", "8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "192.169.0.1",
		"2606:4700:4700::1111", "::ffff:93.184.216.34", "64:ff9b::808:808", "2002:808:808::1",
	}
	for _, s := range allowed {
		if !AddrAllowed(netip.MustParseAddr(s)) {
			t.Errorf("%s refused, want allowed", s)
		}
	}
}

// fakeResolver answers from a table; hosts absent from it do not exist.
type fakeResolver map[string][]string

func (r fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	ips, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	if len(ips) == 1 && ips[0] == "SERVFAIL" {
		return nil, &net.DNSError{Err: "server misbehaving", Name: host, IsTemporary: true}
	}
	var out []net.IPAddr
	for _, s := range ips {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

func TestCheckURL(t *testing.T) {
	res := fakeResolver{
		"hooks.example.com":  {"93.184.216.34"},
		"dual.example.com":   {"93.184.216.34", "2606:2800:220:1::1"},
		"internal.example":   {"10.1.2.3"},
		"mixed.example.com":  {"93.184.216.34", "192.168.0.10"},
		"metadata.example":   {"169.254.169.254"},
		"rebind.example.com": {"127.0.0.1"},
		"v6local.example":    {"fd00::5"},
		"flaky.example.com":  {"SERVFAIL"},
	}
	tests := []struct {
		url          string
		allowPrivate bool
		code         string // "" = accepted
	}{
		{"https://hooks.example.com/sentinel", false, ""},
		{"http://hooks.example.com:8080/x?y=1", false, ""},
		{"https://dual.example.com/", false, ""},
		{"https://93.184.216.34/hook", false, ""},
		{"http://127.0.0.1/hook", false, audit.EINVALID},
		{"http://127.0.0.1:6379/", false, audit.EINVALID},
		{"http://[::1]/hook", false, audit.EINVALID},
		{"http://localhost/hook", false, audit.EINVALID},
		{"http://LOCALHOST./hook", false, audit.EINVALID},
		{"http://api.localhost/hook", false, audit.EINVALID},
		{"http://10.0.0.5/hook", false, audit.EINVALID},
		{"http://192.168.1.20/hook", false, audit.EINVALID},
		{"http://172.16.5.4/hook", false, audit.EINVALID},
		{"http://169.254.169.254/latest/meta-data/", false, audit.EINVALID},
		{"http://[::ffff:127.0.0.1]/hook", false, audit.EINVALID},
		{"http://[fe80::1%25eth0]/hook", false, audit.EINVALID},
		{"http://100.64.1.1/hook", false, audit.EINVALID},
		{"http://0.0.0.0/hook", false, audit.EINVALID},
		{"http://[::]/hook", false, audit.EINVALID},
		{"http://224.0.0.1/hook", false, audit.EINVALID},
		{"https://internal.example/hook", false, audit.EINVALID},
		{"https://mixed.example.com/hook", false, audit.EINVALID},
		{"https://metadata.example/hook", false, audit.EINVALID},
		{"https://rebind.example.com/hook", false, audit.EINVALID},
		{"https://v6local.example/hook", false, audit.EINVALID},
		{"https://nxdomain.example.com/hook", false, audit.EINVALID},
		{"https://flaky.example.com/hook", false, audit.EUNAVAILABLE},
		{"http://127.0.0.1:8080/hook", true, ""},
		{"http://localhost/hook", true, ""},
		{"https://internal.example/hook", true, ""},
		// Form is checked whatever allowPrivate says.
		{"ftp://hooks.example.com/x", true, audit.EINVALID},
		{"hooks.example.com/x", false, audit.EINVALID},
		{"/relative", false, audit.EINVALID},
		{"https://", false, audit.EINVALID},
		{"https://user:pass@hooks.example.com/", false, audit.EINVALID},
		{"https://hooks.example.com/" + strings.Repeat("a", MaxURLLength), false, audit.EINVALID},
		{"https://hooks.example.com/%zz", false, audit.EINVALID},
		{"javascript:alert(1)", false, audit.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.url[:min(len(tt.url), 60)], func(t *testing.T) {
			err := CheckURL(context.Background(), tt.url, tt.allowPrivate, res)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e := audit.AsError(err)
			if e == nil || e.Code != tt.code || e.Param != "webhook_url" {
				t.Fatalf("got %v, want %s naming webhook_url", err, tt.code)
			}
		})
	}
}

// TestConnectionTimeRefusal shows that the address actually dialled is
// checked, after name resolution: loopback is refused whether the URL holds
// the literal address or a name that resolves to it (localhost here; a
// public name re-pointed after CheckURL, as in DNS rebinding, takes the same
// path). The receiver is never reached and the refusal is not retried.
func TestConnectionTimeRefusal(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]

	for _, target := range []string{srv.URL, "http://localhost:" + port + "/hook"} {
		rec := &memRecorder{}
		d := newTestDeliverer(t, Config{AllowPrivate: false}, rec)
		d.Client = NewClient(false)
		err := d.Deliver(context.Background(), Delivery{URL: target, Secret: "whsec_x", Event: Event{ID: "evt_1"}})
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Fatalf("%s: Deliver = %v, want ErrForbiddenAddress", target, err)
		}
		if got := rec.all(); len(got) != 1 || got[0].StatusCode != 0 || !strings.Contains(got[0].Error, "not allowed") {
			t.Fatalf("%s: attempts %+v, want one refused attempt", target, got)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("receiver reached %d times", hits.Load())
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	var inner atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inner.Add(1) }))
	defer target.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()

	rec := &memRecorder{}
	d := newTestDeliverer(t, Config{AllowPrivate: true, MaxAttempts: 2}, rec)
	err := d.Deliver(context.Background(), Delivery{URL: redirector.URL, Secret: "whsec_x", Event: Event{ID: "evt_1"}})
	if !errors.Is(err, ErrGaveUp) {
		t.Fatalf("Deliver = %v, want ErrGaveUp", err)
	}
	if inner.Load() != 0 {
		t.Fatal("redirect followed")
	}
	for _, a := range rec.all() {
		if a.StatusCode != http.StatusTemporaryRedirect || !strings.Contains(a.Error, "redirects are not followed") {
			t.Fatalf("attempt %+v", a)
		}
	}
}
