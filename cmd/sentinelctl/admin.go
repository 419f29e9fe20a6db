package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
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

// openStore opens DATABASE_URL (which migrates it).
func openStore(ctx context.Context, e *env) (*sqlstore.DB, config.Config, error) {
	cfg, err := config.FromEnv(e.getenv)
	if err != nil {
		return nil, cfg, err
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := app.OpenStore(ctx, cfg, logger)
	if err != nil {
		return nil, cfg, fmt.Errorf("DATABASE_URL: %w", err)
	}
	return db, cfg, nil
}

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "migrate", "migrate\n\nApplies the embedded migrations to DATABASE_URL (the api also does at start-up).")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, cfg, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(e.stdout, "database %s is migrated\n", cfg.DatabaseKind)
	return nil
}

func cmdKeysCreate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "keys create", "keys create --tenant TENANT [--name NAME]\n\n"+
		"Creates an API key. The key is printed once, alone on the last line of stdout.")
	tenant := fs.String("tenant", "", "tenant the key belongs to (required)")
	name := fs.String("name", "", "a label for the key")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		fs.Usage()
		return errUsage
	}
	db, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	k, secret, err := apikey.Create(ctx, db, *tenant, *name, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "created key %s for tenant %s; store it now, it cannot be shown again\n", k.ID, k.TenantID)
	fmt.Fprintln(e.stdout, secret)
	return nil
}

func cmdKeysList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "keys list", "keys list [--tenant TENANT] [--json]")
	tenant := fs.String("tenant", "", "only this tenant's keys")
	asJSON := fs.Bool("json", false, "print JSON")
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
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(keys)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTENANT\tNAME\tPREFIX\tCREATED\tREVOKED")
	for _, k := range keys {
		revoked := "-"
		if k.RevokedAt != nil {
			revoked = k.RevokedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\t%s\n", k.ID, k.TenantID, k.Name, k.Prefix,
			k.CreatedAt.UTC().Format(time.RFC3339), revoked)
	}
	return tw.Flush()
}

func cmdKeysRevoke(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "keys revoke", "keys revoke KEY_ID")
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
	fmt.Fprintf(e.stdout, "revoked %s\n", fs.Arg(0))
	return nil
}

func cmdSeed(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "seed", "seed --tenant TENANT [--events N] [--days D] [--seed S]\n\n"+
		"Inserts N realistic synthetic events spread over the last D days (COPY on PostgreSQL).")
	tenant := fs.String("tenant", "", "tenant to seed (required)")
	n := fs.Int("events", demo.DefaultEvents, "number of events")
	days := fs.Int("days", demo.DefaultDays, "spread events over this many days before now")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (same seed, same events)")
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
	fmt.Fprintf(e.stdout, "inserted %d events for tenant %s in %s (%.0f events/s)\n", inserted, *tenant,
		el.Round(time.Millisecond), float64(inserted)/el.Seconds())
	return nil
}
