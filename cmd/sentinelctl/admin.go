package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/app"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/demo"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
)

func init() {
	register(command{"migrate", "apply database migrations (DATABASE_URL)", cmdMigrate})
	register(command{"keys create", "create an API key for a tenant (prints the key once)", cmdKeysCreate})
	register(command{"keys list", "list API keys (never the secrets)", cmdKeysList})
	register(command{"keys revoke", "revoke an API key by id", cmdKeysRevoke})
	register(command{"seed", "insert synthetic audit events for a tenant", cmdSeed})
}

// openStore opens DATABASE_URL (which migrates it). Without DATABASE_URL
// it never creates the default SQLite database: run from another
// directory than the api's, ./data/audit.db would be a new, empty database
// that no server reads, and a key made there would silently not work. An
// explicit DATABASE_URL is the operator's choice and is created if need be.
func openStore(ctx context.Context, e *env) (*sqlstore.DB, config.Config, error) {
	cfg, err := config.FromEnv(e.getenv)
	if err != nil {
		return nil, cfg, err
	}
	if strings.TrimSpace(e.getenv("DATABASE_URL")) == "" {
		if err := checkDefaultDatabase(cfg); err != nil {
			return nil, cfg, err
		}
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := app.OpenStore(ctx, cfg, logger)
	if err != nil {
		return nil, cfg, fmt.Errorf("DATABASE_URL: %w", err)
	}
	return db, cfg, nil
}

// checkDefaultDatabase stops when the default SQLite file is missing, and
// says which database would have been used.
func checkDefaultDatabase(cfg config.Config) error {
	path := strings.SplitN(cfg.DatabaseDSN, "?", 2)[0]
	if _, err := os.Stat(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	abs, _ := filepath.Abs(path)
	return fmt.Errorf("no database here: DATABASE_URL is unset, so the default %s would be used, "+
		"and %s does not exist. Run sentinelctl in the directory where the api runs (make demo), "+
		"or set DATABASE_URL to the api's database", config.DefaultDatabaseURL, abs)
}

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "migrate", "migrate [--json]\n\nApplies the embedded migrations to DATABASE_URL (the api also does at start-up).")
	asJSON := addJSONFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, cfg, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	if asJSON.on(e) {
		return printJSON(e.stdout, map[string]any{"database": cfg.DatabaseKind, "migrated": true})
	}
	fmt.Fprintf(e.stdout, "database %s is migrated\n", cfg.DatabaseKind)
	return nil
}

func cmdKeysCreate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "keys create", "keys create --tenant TENANT [--name NAME] [--scopes S,S] [--expires WHEN] [--window START/END] [--json]\n\n"+
		"Creates an API key and prints it once: as the \"key\" field of its JSON record\n"+
		"(with --json, or when stdout is not a terminal), else alone on stdout's last line\n"+
		"(--json=false | tail -n 1 gets it in a script).\n"+
		"Scopes: "+strings.Join(audit.ScopeNames(), ", ")+" (admin implies every other).\n"+
		"--expires takes an RFC 3339 time, a date, or a duration from now (90d, 12h).\n"+
		"--window (auditor keys, read-only scopes only) limits what the key reads, e.g. 2026-01-01/2026-06-30.")
	tenant := fs.String("tenant", "", "tenant the key belongs to (required)")
	name := fs.String("name", "", "a label for the key")
	scopes := fs.String("scopes", string(audit.ScopeAdmin), "comma-separated scopes")
	expires := fs.String("expires", "", "when the key stops working (time, date or duration such as 90d)")
	asJSON := addJSONFlag(fs)
	window := fs.String("window", "", "START/END the key may read (auditor keys)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		fs.Usage()
		return errUsage
	}
	now := time.Now()
	spec := apikey.Spec{TenantID: *tenant, Name: *name}
	var err error
	if spec.Scopes, err = audit.ParseScopes("--scopes", []string{*scopes}); err != nil {
		return err
	}
	if *expires != "" {
		t, err := parseExpiry(*expires, now)
		if err != nil {
			return err
		}
		spec.ExpiresAt = &t
	}
	if *window != "" {
		w, err := audit.ParseTimeWindow("--window", *window)
		if err != nil {
			return err
		}
		spec.Window = &w
	}
	if err := apikey.Check(spec, now); err != nil {
		return err
	}
	db, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	k, secret, err := apikey.Mint(ctx, db, spec, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "created key %s for tenant %s; store it now, it cannot be shown again\n", k.ID, k.TenantID)
	if asJSON.on(e) {
		v := keyView(k)
		v.Key = secret
		return printJSON(e.stdout, v)
	}
	fmt.Fprintln(e.stdout, secret)
	return nil
}

func cmdKeysList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "keys list", "keys list [--tenant TENANT] [--json]")
	tenant := fs.String("tenant", "", "only this tenant's keys")
	asJSON := addJSONFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	keys, err := db.ListAPIKeys(ctx, *tenant)
	if err != nil {
		return err
	}
	if asJSON.on(e) {
		out := struct {
			Keys []keyJSON `json:"keys"`
		}{Keys: []keyJSON{}}
		for _, k := range keys {
			out.Keys = append(out.Keys, keyView(k))
		}
		return printJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTENANT\tNAME\tPREFIX\tSCOPES\tCREATED\tEXPIRES\tWINDOW\tREVOKED")
	when := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, k := range keys {
		scopes := make([]string, len(k.Scopes))
		for i, s := range k.Scopes {
			scopes[i] = string(s)
		}
		window := "-"
		if k.Window != nil {
			window = k.Window.Start.UTC().Format(time.RFC3339) + "/" + k.Window.End.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.TenantID, k.Name, k.Prefix, strings.Join(scopes, ","),
			k.CreatedAt.UTC().Format(time.RFC3339), when(k.ExpiresAt), window, when(k.RevokedAt))
	}
	return tw.Flush()
}

// parseExpiry reads --expires: an RFC 3339 time, a date (the key works
// through that day, UTC), or a duration from now with d for days (90d).
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.AddDate(0, 0, 1), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return now.AddDate(0, 0, n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	return time.Time{}, audit.Invalid("--expires", "--expires %q is not a time, a date or a duration such as 90d or 12h", s)
}

func cmdKeysRevoke(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "keys revoke", "keys revoke KEY_ID [--json]")
	asJSON := addJSONFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	db, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.RevokeAPIKey(ctx, fs.Arg(0), time.Now()); err != nil {
		return err
	}
	if asJSON.on(e) {
		return printJSON(e.stdout, map[string]any{"id": fs.Arg(0), "revoked": true})
	}
	fmt.Fprintf(e.stdout, "revoked %s\n", fs.Arg(0))
	return nil
}

func cmdSeed(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "seed", "seed --tenant TENANT [--events N] [--days D] [--seed S] [--json]\n\n"+
		"Inserts N realistic synthetic events spread over the last D days (COPY on PostgreSQL).")
	tenant := fs.String("tenant", "", "tenant to seed (required)")
	n := fs.Int("events", demo.DefaultEvents, "number of events")
	days := fs.Int("days", demo.DefaultDays, "spread events over this many days before now")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (same seed, same events)")
	asJSON := addJSONFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" || *n <= 0 || *days <= 0 {
		fs.Usage()
		return errUsage
	}
	if err := apikey.ValidateTenant(*tenant); err != nil {
		return err
	}
	db, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	g := demo.New(demo.Config{Seed: *seed, TenantID: *tenant, Now: time.Now().UTC(), Days: *days, Events: *n})
	p := newProgress(e.stderr, "seeding", int64(*n))
	count := int64(0)
	next := func() (*audit.Event, bool) {
		ev, ok := g.Next()
		if ok {
			count++
			if count%10000 == 0 {
				p.set(count)
			}
		}
		return ev, ok
	}
	start := time.Now()
	inserted, err := db.BulkInsertEvents(ctx, *tenant, next)
	p.done()
	if err != nil {
		return err
	}
	el := time.Since(start)
	if asJSON.on(e) {
		return printJSON(e.stdout, map[string]any{"tenant_id": *tenant, "events_inserted": inserted,
			"duration_ms": el.Milliseconds()})
	}
	fmt.Fprintf(e.stdout, "inserted %d events for tenant %s in %s (%.0f events/s)\n", inserted, *tenant,
		el.Round(time.Millisecond), float64(inserted)/el.Seconds())
	return nil
}
