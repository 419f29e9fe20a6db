package main

import (
	"flag"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// jsonFlag is every command's --json: JSON when asked for, or when stdout
// is not a terminal (a script is reading) unless --json=false asks for
// text.
type jsonFlag struct {
	fs    *flag.FlagSet
	value *bool
}

func addJSONFlag(fs *flag.FlagSet) jsonFlag {
	return jsonFlag{fs: fs, value: fs.Bool("json", false, "print JSON (the default when stdout is not a terminal; --json=false for text)")}
}

// on reports whether to print JSON, once the flags are parsed.
func (j jsonFlag) on(e *env) bool {
	set := false
	j.fs.Visit(func(f *flag.Flag) { set = set || f.Name == "json" })
	if set {
		return *j.value
	}
	return !isTerminal(e.stdout)
}

// keyJSON is an API key as sentinelctl prints it: snake_case, lists never
// null, no secret.
type keyJSON struct {
	ID        string          `json:"id"`
	TenantID  string          `json:"tenant_id"`
	Name      string          `json:"name"`
	Prefix    string          `json:"prefix"`
	Scopes    []string        `json:"scopes"`
	CreatedAt time.Time       `json:"created_at"`
	ExpiresAt *time.Time      `json:"expires_at"`
	RevokedAt *time.Time      `json:"revoked_at"`
	Window    *timeWindowJSON `json:"window"`
	Key       string          `json:"key,omitempty"` // keys create only: the secret, shown once
}

type timeWindowJSON struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

func keyView(k audit.APIKey) keyJSON {
	out := keyJSON{ID: k.ID, TenantID: k.TenantID, Name: k.Name, Prefix: k.Prefix, Scopes: []string{},
		CreatedAt: k.CreatedAt.UTC(), ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt}
	for _, s := range k.Scopes {
		out.Scopes = append(out.Scopes, string(s))
	}
	if k.Window != nil {
		out.Window = &timeWindowJSON{Start: k.Window.Start.UTC(), End: k.Window.End.UTC()}
	}
	return out
}
