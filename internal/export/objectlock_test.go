package export_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/objstore"
	s3store "github.com/auditsentinel/sentinel/internal/objstore/s3"
	"github.com/auditsentinel/sentinel/internal/render/formats"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// TestObjectLock runs exports into a versitygw bucket created with Object
// Lock: the file is stored under the configured mode until the end of its
// minimum retention, and storage itself refuses to delete it. A bucket
// without the lock takes the same files without retention.
func TestObjectLock(t *testing.T) {
	ctx := t.Context()
	srv := testenv.VersityGW(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	client := awss3.New(awss3.Options{
		BaseEndpoint: aws.String(srv.Endpoint), Region: srv.Region, UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}, nil
		}),
	})
	if _, err := client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("locked"),
		ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, testenv.SQLitePath(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.InsertEvents(ctx, "acme", []audit.Event{{ID: "e1", OccurredAt: time.Now().Add(-time.Hour),
		EventType: "task", SubType: "created", SystemSource: "tests"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutRetention(ctx, audit.RetentionPolicy{TenantID: "acme", ArchiveMinDays: 2, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		bucket, mode string
		wantLock     types.ObjectLockMode
	}{
		{"locked", "governance", types.ObjectLockModeGovernance},
		{"locked", "compliance", types.ObjectLockModeCompliance},
		{"locked", "off", ""},
		{srv.Bucket, "governance", ""}, // no Object Lock on the bucket
	} {
		t.Run(tc.bucket+"/"+tc.mode, func(t *testing.T) {
			b, err := s3store.New(ctx, s3store.Config{Bucket: tc.bucket, Endpoint: srv.Endpoint, ForcePathStyle: true,
				ObjectLockMode: tc.mode})
			if err != nil {
				t.Fatal(err)
			}
			locked, err := b.DetectObjectLock(ctx)
			if err != nil || locked != (tc.wantLock != "") {
				t.Fatalf("DetectObjectLock = %v, %v; want %v", locked, err, tc.wantLock != "")
			}
			id := "x-" + tc.bucket + "-" + tc.mode
			p := audit.ExportParams{Filter: audit.Filter{TenantID: "acme"}, FileType: audit.FileCSV, Locale: "en", Timezone: "UTC"}
			if err := db.CreateExport(ctx, audit.Export{ID: id, TenantID: "acme", Params: p, RequestHash: id,
				Status: audit.StatusQueued, RowsTotal: -1, CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			runner := &export.Runner{Store: db, Bucket: b, Renderers: formats.Registry(100), Logger: slog.New(slog.DiscardHandler),
				Now: time.Now, Retention: 24 * time.Hour, Policies: db}
			before := time.Now()
			if err := runner.Run(ctx, "acme", id); err != nil {
				t.Fatal(err)
			}
			e, err := db.GetExport(ctx, "acme", id)
			if err != nil || e.Status != audit.StatusCompleted {
				t.Fatalf("export: %+v, %v", e, err)
			}
			// The expiry moved out to the end of the minimum retention.
			if !e.ExpiresAt.Equal(e.CompletedAt.Add(48 * time.Hour)) {
				t.Errorf("expires %v, want two days after completion %v", e.ExpiresAt, e.CompletedAt)
			}
			ret, err := client.GetObjectRetention(ctx, &awss3.GetObjectRetentionInput{Bucket: aws.String(tc.bucket), Key: aws.String(e.ObjectKey)})
			if tc.wantLock == "" {
				if err == nil && ret.Retention != nil && ret.Retention.Mode != "" {
					t.Fatalf("object written with retention %+v, want none", ret.Retention)
				}
				if err := b.Delete(ctx, e.ObjectKey); err != nil {
					t.Fatalf("delete without a lock: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			until := *ret.Retention.RetainUntilDate
			if string(ret.Retention.Mode) != string(tc.wantLock) || until.Before(before.Add(48*time.Hour).Add(-time.Second)) ||
				until.After(e.CompletedAt.Add(48*time.Hour)) {
				t.Fatalf("retention %s until %v; want %s until two days after the upload, not after the service's %v",
					ret.Retention.Mode, until, tc.wantLock, e.CompletedAt.Add(48*time.Hour))
			}
			// Storage refuses the deletion, whoever asks, and the refusal
			// says why: a conflict (409 at the API) naming the lock.
			err = b.Delete(ctx, e.ObjectKey)
			if audit.ErrorCode(err) != audit.ECONFLICT || !strings.Contains(err.Error(), "S3 Object Lock") ||
				!strings.Contains(err.Error(), until.UTC().Format(time.RFC3339)) {
				t.Fatalf("deleting a locked object: %v (code %q); want a conflict naming the lock until %v", err, audit.ErrorCode(err), until)
			}
			var retained *objstore.Retained
			if !errors.As(err, &retained) || !retained.Until.Equal(until.Truncate(time.Second)) { // a header: whole seconds
				t.Fatalf("deleting a locked object: %v; want an objstore.Retained until %v", err, until)
			}
			if _, err := b.Stat(ctx, e.ObjectKey); err != nil {
				t.Fatalf("the locked object is gone: %v", err)
			}
			sweepRetained(t, db, b, e)
		})
	}

	// A multipart upload (over one part) is locked too.
	b, err := s3store.New(ctx, s3store.Config{Bucket: "locked", Endpoint: srv.Endpoint, ForcePathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := b.DetectObjectLock(ctx); !ok || err != nil {
		t.Fatalf("DetectObjectLock = %v, %v", ok, err)
	}
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	if _, err := b.UploadRetained(ctx, "big", bytes.NewReader(make([]byte, s3store.MinPartSize+1)), "application/octet-stream", until); err != nil {
		t.Fatal(err)
	}
	ret, err := client.GetObjectRetention(ctx, &awss3.GetObjectRetentionInput{Bucket: aws.String("locked"), Key: aws.String("big")})
	if err != nil || ret.Retention.Mode != types.ObjectLockRetentionModeGovernance || !ret.Retention.RetainUntilDate.Equal(until) {
		t.Fatalf("multipart retention: %+v, %v; want governance until %v", ret, err, until)
	}

	// A bucket whose operator set a default retention locks objects the
	// service wrote without one (lock mode off): the service believes the
	// file may go, storage refuses, and the refusal is a conflict that
	// says so, not an internal error.
	if _, err := client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("defaulted"),
		ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutObjectLockConfiguration(ctx, &awss3.PutObjectLockConfigurationInput{Bucket: aws.String("defaulted"),
		ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled,
			Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeCompliance, Days: aws.Int32(1)}}}}); err != nil {
		t.Fatal(err)
	}
	d, err := s3store.New(ctx, s3store.Config{Bucket: "defaulted", Endpoint: srv.Endpoint, ForcePathStyle: true, ObjectLockMode: "off"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Upload(ctx, "plain", strings.NewReader("a file"), "text/csv"); err != nil {
		t.Fatal(err)
	}
	err = d.Delete(ctx, "plain")
	if audit.ErrorCode(err) != audit.ECONFLICT || !strings.Contains(err.Error(), "S3 Object Lock") {
		t.Fatalf("deleting under the bucket's default retention: %v (code %q); want a conflict naming the lock", err, audit.ErrorCode(err))
	}
	if r := (*objstore.Retained)(nil); !errors.As(err, &r) || !r.Until.IsZero() {
		t.Fatalf("deleting under the bucket's default retention: %v; want an objstore.Retained without a date", err)
	}
}

// sweepRetained runs the sweeper past completed export e's expiry while
// storage still retains its object: the export stays completed and its
// expiry moves out, so that it leaves the due list instead of being
// retried (and logged) every pass, and instead of filling the batch ahead
// of the exports behind it. Storage's date is in the past by the
// sweeper's (later) clock, so it asks again RetainedRetry later; when
// storage names a date ahead (a fault-injecting bucket here), that date.
func sweepRetained(t *testing.T, db *sqlstore.DB, b *s3store.Bucket, e audit.Export) {
	t.Helper()
	ctx := t.Context()
	now := e.ExpiresAt.Add(time.Minute)
	sw := &export.Sweeper{Store: db, Bucket: b, Queue: &requeues{}, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return now }, Retention: db}
	if err := sw.Sweep(ctx); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	got, err := db.GetExport(ctx, e.TenantID, e.ID)
	if err != nil || got.Status != audit.StatusCompleted || !got.ExpiresAt.Equal(now.Add(export.RetainedRetry)) {
		t.Fatalf("after a sweep storage refused: %+v, %v; want completed, expiring at %v", got, err, now.Add(export.RetainedRetry))
	}
	due, err := db.ExportsDue(ctx, audit.DueQuery{Now: now.Add(time.Minute), QueuedBefore: now, Limit: 10})
	if err != nil || slices.ContainsFunc(due, func(d audit.Export) bool { return d.ID == e.ID }) {
		t.Fatalf("due after the deferral: %v, %v", due, err)
	}

	later := now.Add(export.RetainedRetry + time.Minute)
	until := later.Add(3 * time.Hour).Truncate(time.Second)
	sw.Bucket = retainingBucket{SweepBucket: b, until: until}
	sw.Now = func() time.Time { return later }
	if err := sw.Sweep(ctx); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if got, err := db.GetExport(ctx, e.TenantID, e.ID); err != nil || got.Status != audit.StatusCompleted || !got.ExpiresAt.Equal(until) {
		t.Fatalf("after a refusal naming %v: %+v, %v", until, got, err)
	}
}

// retainingBucket refuses every deletion as S3 Object Lock does until a
// date ahead of the real one (a fault injected; the real lock is above).
type retainingBucket struct {
	export.SweepBucket
	until time.Time
}

func (r retainingBucket) Delete(context.Context, string) error {
	return &objstore.Retained{Until: r.until, Err: audit.Errorf(audit.ECONFLICT, "retained until %v", r.until)}
}
