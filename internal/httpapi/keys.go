package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/audit"
)

// MaxSmallBody bounds the JSON bodies of the administrative routes (keys,
// retention, holds): a few fields each.
const MaxSmallBody = 8 << 10

// APIKeyView is the JSON view of an API key; never its secret.
type APIKeyView struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Prefix    string      `json:"prefix"`
	Scopes    []string    `json:"scopes"`
	CreatedAt time.Time   `json:"created_at"`
	ExpiresAt *time.Time  `json:"expires_at,omitempty"`
	RevokedAt *time.Time  `json:"revoked_at,omitempty"`
	Window    *WindowView `json:"window,omitempty"`
}

// WindowView is the time window an auditor key reads: [start, end).
type WindowView struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// CreatedAPIKey is the answer to POST /api-keys: the only time the secret
// is shown.
type CreatedAPIKey struct {
	APIKeyView
	Secret string `json:"secret"`
}

// APIKeyList is GET /api-keys.
type APIKeyList struct {
	Keys []APIKeyView `json:"keys"`
}

func keyView(k audit.APIKey) APIKeyView {
	v := APIKeyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: []string{}, CreatedAt: k.CreatedAt,
		ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt}
	for _, s := range k.Scopes {
		v.Scopes = append(v.Scopes, string(s))
	}
	if k.Window != nil {
		v.Window = &WindowView{Start: k.Window.Start, End: k.Window.End}
	}
	return v
}

// keyBody is the body of POST /api-keys.
type keyBody struct {
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	ExpiresAt *string  `json:"expires_at"` // RFC 3339

	// Window is "START/END" (dates or RFC 3339 times), as sentinelctl's
	// --window takes it.
	Window *string `json:"window"`
}

var keyFields = []string{"expires_at", "name", "scopes", "window"}

// readSmallBody decodes a JSON object of at most MaxSmallBody bytes with
// only the allowed fields into dst, naming the offending field otherwise.
func readSmallBody(c echo.Context, allowed []string, dst any) error {
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, MaxSmallBody+1))
	if err != nil {
		return audit.Invalid("body", "could not read the request body")
	}
	if len(raw) > MaxSmallBody {
		return &audit.Error{Code: audit.ETOOLARGE, Param: "body", Message: fmt.Sprintf("this body is at most %d bytes", MaxSmallBody)}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return jsonError(err)
	}
	if err := unknownField("", top, allowed); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	return nil
}

// createKey is POST /api-keys: a new key of the caller's tenant with the
// scopes, expiry and window asked for, none beyond the caller's own.
func (s *Server) createKey(c echo.Context) error {
	var b keyBody
	if err := readSmallBody(c, keyFields, &b); err != nil {
		return err
	}
	ctx, caller := c.Request().Context(), keyOf(c)
	if b.Scopes == nil {
		return &audit.Error{Code: audit.EINVALID, Param: "scopes", Allowed: audit.ScopeNames(), Message: "scopes is required"}
	}
	scopes, err := audit.ParseScopes("scopes", b.Scopes)
	if err != nil {
		return err
	}
	spec := apikey.Spec{TenantID: caller.TenantID, Name: b.Name, Scopes: scopes}
	if b.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *b.ExpiresAt)
		if err != nil {
			return audit.Invalid("expires_at", "expires_at must be an RFC 3339 time, e.g. 2026-12-31T00:00:00Z")
		}
		spec.ExpiresAt = &t
	}
	if b.Window != nil {
		w, err := audit.ParseTimeWindow("window", *b.Window)
		if err != nil {
			return err
		}
		spec.Window = &w
	}
	now := s.cfg.Now()
	if err := apikey.Check(spec, now); err != nil {
		return err
	}
	if err := apikey.CheckGrant(caller, spec); err != nil {
		return err
	}
	k, secret, err := apikey.Mint(ctx, s.cfg.Store, spec, now)
	if err != nil {
		return err
	}
	s.logger.InfoContext(ctx, "api key created", "tenant", k.TenantID, "key_id", k.ID, "by", caller.ID, "scopes", b.Scopes)
	addAuditMeta(c, "key_name", k.Name, "scopes", joinScopeNames(k.Scopes))
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Location", Prefix+"/api-keys/"+k.ID)
	return c.JSON(http.StatusCreated, CreatedAPIKey{APIKeyView: keyView(k), Secret: secret})
}

func joinScopeNames(sc []audit.Scope) string {
	out := ""
	for i, s := range sc {
		if i > 0 {
			out += " "
		}
		out += string(s)
	}
	return out
}

// listKeys is GET /api-keys: the tenant's keys, oldest first, revoked ones
// included (an auditor asks what existed).
func (s *Server) listKeys(c echo.Context) error {
	keys, err := s.cfg.Store.ListAPIKeys(c.Request().Context(), tenantOf(c))
	if err != nil {
		return err
	}
	out := APIKeyList{Keys: []APIKeyView{}}
	for _, k := range keys {
		out.Keys = append(out.Keys, keyView(k))
	}
	return c.JSON(http.StatusOK, out)
}

// revokeKey is DELETE /api-keys/{id}. Revoking is for good and answers 204
// again for a key already revoked; another tenant's key is 404.
func (s *Server) revokeKey(c echo.Context) error {
	ctx, caller := c.Request().Context(), keyOf(c)
	id := c.Param("id")
	if err := s.cfg.Store.RevokeTenantAPIKey(ctx, caller.TenantID, id, s.cfg.Now().UTC().Truncate(audit.TimePrecision)); err != nil {
		return err
	}
	s.logger.InfoContext(ctx, "api key revoked", "tenant", caller.TenantID, "key_id", id, "by", caller.ID)
	return c.NoContent(http.StatusNoContent)
}
