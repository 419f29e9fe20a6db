package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// Webhook URLs are chosen by API callers and fetched by our workers, inside
// our network: without care they reach the cloud metadata service, admin
// ports on localhost or anything else on the private network (server-side
// request forgery). Two checks refuse such addresses unless AllowPrivate is
// configured:
//
//   - CheckURL, when a URL is saved, resolves the host and refuses it if
//     any address is forbidden, so the caller learns at once;
//   - the dialer of NewClient checks the address actually connected to, so
//     a name that resolves differently later (DNS rebinding) is refused too.
//     Redirects are not followed: a 3xx is a failed attempt.

// MaxURLLength bounds a webhook URL.
const MaxURLLength = 2048

// ErrForbiddenAddress is returned (wrapped) when a connection to a
// forbidden address is refused. Deliveries refused for it are not retried.
var ErrForbiddenAddress = errors.New("webhook: address not allowed")

// Resolver looks up a host's addresses; *net.Resolver implements it.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

var _ Resolver = (*net.Resolver)(nil)

// forbidden lists ranges refused beyond what netip.Addr's predicates cover
// (loopback, private, link-local, multicast, unspecified).
var forbidden = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and broadcast
	netip.MustParsePrefix("::/96"),          // IPv4-compatible (deprecated)
	netip.MustParsePrefix("fec0::/10"),      // site-local (deprecated)
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
}

var (
	sixToFour = netip.MustParsePrefix("2002::/16")
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
)

// AddrAllowed reports whether a webhook may connect to addr when private
// addresses are not allowed. IPv4-mapped IPv6 addresses are judged as IPv4;
// 6to4 and NAT64 addresses by the IPv4 address they embed.
func AddrAllowed(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	if !addr.IsValid() {
		return false
	}
	if addr.Is6() {
		b := addr.As16()
		switch {
		case nat64.Contains(addr):
			return AddrAllowed(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(addr):
			return AddrAllowed(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	if addr.IsLoopback() || addr.IsPrivate() || addr.IsUnspecified() || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsMulticast() {
		return false
	}
	for _, p := range forbidden {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// ParseURL checks a webhook URL's form without touching the network: an
// absolute http or https URL with a host, no user information (credentials
// in a URL end up in logs; the signature authenticates us), at most
// MaxURLLength bytes. Errors are audit.Invalid naming "webhook_url".
func ParseURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLength {
		return nil, audit.Invalid("webhook_url", "webhook_url is at most %d bytes", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, audit.Invalid("webhook_url", "webhook_url is not a valid URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" || !u.IsAbs() {
		return nil, audit.Invalid("webhook_url", "webhook_url must be an absolute http or https URL")
	}
	if u.Hostname() == "" || u.Opaque != "" {
		return nil, audit.Invalid("webhook_url", "webhook_url must name a host")
	}
	if u.User != nil {
		return nil, audit.Invalid("webhook_url", "webhook_url must not contain a user name or password")
	}
	return u, nil
}

// CheckURL checks a webhook URL when it is saved: its form (ParseURL) and,
// unless allowPrivate, that its host is not "localhost" and resolves (with
// resolver, or net.DefaultResolver when nil) only to allowed addresses
// (AddrAllowed). Errors are audit errors naming "webhook_url": EINVALID, or
// EUNAVAILABLE when the lookup failed for a reason other than the name not
// existing.
func CheckURL(ctx context.Context, rawURL string, allowPrivate bool, resolver Resolver) error {
	u, err := ParseURL(rawURL)
	if err != nil {
		return err
	}
	if allowPrivate {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	refused := audit.Invalid("webhook_url",
		"webhook_url host %q is a loopback, private, link-local or otherwise internal address", u.Hostname())
	if addr, err := netip.ParseAddr(host); err == nil {
		if !AddrAllowed(addr) {
			return refused
		}
		return nil
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return refused
	}
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	addrs, err := resolver.LookupIPAddr(ctx, host)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return audit.Invalid("webhook_url", "webhook_url host %q does not resolve", u.Hostname())
		}
		return &audit.Error{Code: audit.EUNAVAILABLE, Param: "webhook_url",
			Message: fmt.Sprintf("could not resolve webhook_url host %q; try again", u.Hostname())}
	}
	if len(addrs) == 0 {
		return audit.Invalid("webhook_url", "webhook_url host %q does not resolve", u.Hostname())
	}
	for _, a := range addrs {
		addr, ok := netip.AddrFromSlice(a.IP)
		if !ok || !AddrAllowed(addr) {
			return refused
		}
	}
	return nil
}

// dialControl refuses connections to forbidden addresses. It runs after
// name resolution, on the address about to be connected, for every address
// the dialer tries.
func dialControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s %s", ErrForbiddenAddress, network, address)
	}
	if !AddrAllowed(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}

// NewClient returns the HTTP client deliveries use: no proxy (the dialer
// must see the receiver's address), no redirects followed, and, unless
// allowPrivate, connections only to addresses AddrAllowed accepts. Each
// attempt's timeout comes from the request's context.
func NewClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = dialControl
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
