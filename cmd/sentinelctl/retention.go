package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/selfaudit"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
)

func init() {
	register(command{"retention show", "show a tenant's event and archive retention", cmdRetentionShow})
	register(command{"retention set", "set a tenant's event retention and archive minimum retention", cmdRetentionSet})
	register(command{"holds list", "list a tenant's legal holds", cmdHoldsList})
	register(command{"holds create", "place a legal hold on a tenant (optionally on a time range)", cmdHoldsCreate})
	register(command{"holds release", "release a legal hold", cmdHoldsRelease})
}

// recordChange writes the self-audit event of a change made here, as the
// API does for its own (the actor is sentinelctl, not a key). The change
// is made already: a failure is reported, not undone.
func recordChange(ctx context.Context, e *env, db *sqlstore.DB, ev audit.Event) {
	ev.Metadata["via"] = "sentinelctl"
	if _, err := db.InsertEvents(ctx, ev.TenantID, []audit.Event{ev}); err != nil {
		fmt.Fprintf(e.stderr, "warning: the change is made but its self-audit event was not stored: %v\n", err)
	}
}

// tenantFlags is the prologue the retention and hold commands share: a
// required --tenant and --json.
type tenantFlags struct {
	*flag.FlagSet
	tenant *string
	json   jsonFlag
}

func newTenantFlags(e *env, name, synopsis string) tenantFlags {
	fs := newFlags(e, name, synopsis)
	return tenantFlags{FlagSet: fs, tenant: fs.String("tenant", "", "tenant (required)"), json: addJSONFlag(fs)}
}

// parse parses args (flags before or after the positional arguments) and
// insists on --tenant and on nargs positional arguments, which it returns.
func (f tenantFlags) parse(args []string, nargs int) ([]string, error) {
	pos, err := parseArgs(f.FlagSet, args)
	if err != nil {
		return nil, err
	}
	if *f.tenant == "" || len(pos) != nargs {
		f.Usage()
		return nil, errUsage
	}
	return pos, nil
}

// retentionJSON and holdJSON are what the API answers, with the tenant
// (the API's is the key's; here it is a flag).
type retentionJSON struct {
	TenantID string `json:"tenant_id"`
	httpapi.RetentionView
}

type holdJSON struct {
	TenantID string `json:"tenant_id"`
	httpapi.LegalHoldView
}

func newHoldJSON(h audit.LegalHold) holdJSON {
	return holdJSON{TenantID: h.TenantID, LegalHoldView: httpapi.NewLegalHoldView(h)}
}

func cmdRetentionShow(ctx context.Context, e *env, args []string) error {
	fs := newTenantFlags(e, "retention show", "retention show --tenant TENANT [--json]")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	db, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := db.GetRetention(ctx, *fs.tenant)
	if err != nil {
		return err
	}
	return printRetention(e, fs.json.on(e), p)
}

func printRetention(e *env, asJSON bool, p audit.RetentionPolicy) error {
	if asJSON {
		return printJSON(e.stdout, retentionJSON{TenantID: p.TenantID, RetentionView: httpapi.NewRetentionView(p)})
	}
	ev := "forever"
	if p.EventDays > 0 {
		ev = strconv.Itoa(p.EventDays) + " days"
	}
	ar := "none"
	if p.ArchiveMinDays > 0 {
		ar = strconv.Itoa(p.ArchiveMinDays) + " days"
	}
	_, err := fmt.Fprintf(e.stdout, "tenant %s: events kept %s; archives kept at least %s\n", p.TenantID, ev, ar)
	return err
}

func cmdRetentionSet(ctx context.Context, e *env, args []string) error {
	fs := newTenantFlags(e, "retention set", "retention set --tenant TENANT [--event-days N] [--archive-min-days N] [--json]\n\n"+
		"--event-days 0 keeps events forever; --archive-min-days 0 lets archives be deleted at any time.\n"+
		"A flag left out keeps its value.")
	eventDays := fs.Int("event-days", -1, "purge events older than this many days (0: keep forever)")
	archiveDays := fs.Int("archive-min-days", -1, "refuse deleting an archive for this many days after it completed")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["event-days"] && !set["archive-min-days"] {
		fs.Usage()
		return errUsage
	}
	db, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	old, err := db.GetRetention(ctx, *fs.tenant)
	if err != nil {
		return err
	}
	p := old
	if set["event-days"] {
		p.EventDays = *eventDays
	}
	if set["archive-min-days"] {
		p.ArchiveMinDays = *archiveDays
	}
	now := time.Now().UTC()
	p.UpdatedAt = now
	if err := db.PutRetention(ctx, p); err != nil {
		return err
	}
	recordChange(ctx, e, db, selfaudit.Event(p.TenantID, audit.SelfAuditRetentionType, "changed", "", selfaudit.Actor{}, now,
		"retention changed", map[string]string{
			"event_days": strconv.Itoa(p.EventDays), "archive_min_days": strconv.Itoa(p.ArchiveMinDays),
			"previous_event_days": strconv.Itoa(old.EventDays), "previous_archive_min_days": strconv.Itoa(old.ArchiveMinDays),
		}))
	return printRetention(e, fs.json.on(e), p)
}

func cmdHoldsList(ctx context.Context, e *env, args []string) error {
	fs := newTenantFlags(e, "holds list", "holds list --tenant TENANT [--all] [--json]")
	all := fs.Bool("all", false, "include released holds")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	db, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	hs, err := db.ListHolds(ctx, *fs.tenant, *all)
	if err != nil {
		return err
	}
	if fs.json.on(e) {
		out := struct {
			Holds []holdJSON `json:"holds"`
		}{Holds: []holdJSON{}}
		for _, h := range hs {
			out.Holds = append(out.Holds, newHoldJSON(h))
		}
		return printJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tFROM\tTO\tCREATED\tRELEASED")
	f := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, h := range hs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, h.Name, f(h.RangeStart), f(h.RangeEnd), f(&h.CreatedAt), f(h.ReleasedAt))
	}
	return tw.Flush()
}

// parseInstant reads an RFC 3339 time or a date (midnight UTC).
func parseInstant(param, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, audit.Invalid(param, "%s %q is not an RFC 3339 time or a date", param, s)
}

func cmdHoldsCreate(ctx context.Context, e *env, args []string) error {
	fs := newTenantFlags(e, "holds create", "holds create --tenant TENANT [--name NAME] [--from WHEN] [--to WHEN] [--json]\n\n"+
		"Without --from and --to the hold covers the whole tenant. Bounds are inclusive\n"+
		"(RFC 3339 times or dates at midnight UTC). The hold's id is printed on stdout\n"+
		"(its record, with --json or when stdout is not a terminal).")
	name := fs.String("name", "", "what the hold is for (a case, a request)")
	from := fs.String("from", "", "first occurred_at the hold covers")
	to := fs.String("to", "", "last occurred_at the hold covers")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(audit.TimePrecision)
	h := audit.LegalHold{ID: uuid.Must(uuid.NewV7()).String(), TenantID: *fs.tenant, Name: *name, CreatedAt: now}
	var err error
	if h.RangeStart, err = parseInstant("--from", *from); err != nil {
		return err
	}
	if h.RangeEnd, err = parseInstant("--to", *to); err != nil {
		return err
	}
	db, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CreateHold(ctx, h); err != nil {
		return err
	}
	recordChange(ctx, e, db, selfaudit.Event(h.TenantID, audit.SelfAuditHoldType, "created", h.ID, selfaudit.Actor{}, now,
		"legal_hold created: "+h.ID, holdMeta(h)))
	fmt.Fprintf(e.stderr, "placed %s\n", h.Describe())
	if fs.json.on(e) {
		return printJSON(e.stdout, newHoldJSON(h))
	}
	fmt.Fprintln(e.stdout, h.ID)
	return nil
}

func holdMeta(h audit.LegalHold) map[string]string {
	m := map[string]string{"legal_hold_id": h.ID, "hold_name": h.Name}
	if h.RangeStart != nil {
		m["range_start"] = h.RangeStart.Format(time.RFC3339Nano)
	}
	if h.RangeEnd != nil {
		m["range_end"] = h.RangeEnd.Format(time.RFC3339Nano)
	}
	return m
}

func cmdHoldsRelease(ctx context.Context, e *env, args []string) error {
	fs := newTenantFlags(e, "holds release", "holds release --tenant TENANT HOLD_ID [--json]")
	pos, err := fs.parse(args, 1)
	if err != nil {
		return err
	}
	db, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now().UTC().Truncate(audit.TimePrecision)
	h, err := db.ReleaseHold(ctx, *fs.tenant, pos[0], now)
	if err != nil {
		return err
	}
	recordChange(ctx, e, db, selfaudit.Event(h.TenantID, audit.SelfAuditHoldType, "released", h.ID, selfaudit.Actor{}, now,
		"legal_hold released: "+h.ID, holdMeta(h)))
	if fs.json.on(e) {
		return printJSON(e.stdout, newHoldJSON(h))
	}
	fmt.Fprintf(e.stdout, "released %s\n", h.ID)
	return nil
}
