// Package s3 stores objects in an S3 bucket or an S3-compatible server
// (MinIO, versitygw, Ceph, R2, ...).
//
// Credentials, region and endpoint come from the AWS SDK's standard sources
// (AWS_ACCESS_KEY_ID, AWS_REGION, AWS_ENDPOINT_URL_S3, shared config,
// instance roles); Config only overrides what the deployment names.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/objstore"
)

const (
	// DefaultPartSize is the size of a multipart upload's parts, and of
	// each buffer an upload holds: S3's minimum, 5 MiB. Concurrent
	// uploads share the Bucket's buffers, one each and one more (issue 12
	// bounds what each export adds to a worker at 16 MiB); 8 MiB parts
	// bought no throughput an export can produce. 10,000 parts still allow
	// 50 GB.
	DefaultPartSize = MinPartSize
	// MinPartSize is S3's smallest part but the last.
	MinPartSize = 5 << 20
	// DefaultConcurrency is how many parts of one upload are in flight.
	// Two keep a single export's upload busy (one part fills while the
	// other travels) and bound it at 10 MiB of buffers; four doubled the
	// worker's memory for no throughput an export can produce.
	DefaultConcurrency = 2
	// maxParts is S3's limit on the parts of one upload.
	maxParts = 10000
	// MaxPresignTTL is the longest a SigV4 presigned URL may live.
	MaxPresignTTL = 7 * 24 * time.Hour
)

// Config selects a bucket and tunes uploads. Zero values take defaults.
type Config struct {
	Bucket string
	// Prefix is prepended to every key, as a directory: "exports" and
	// "exports/" both store key "a" as "exports/a".
	Prefix string
	// Endpoint overrides the SDK's endpoint (which AWS_ENDPOINT_URL_S3
	// also sets), e.g. http://127.0.0.1:7070.
	Endpoint string
	// ForcePathStyle addresses the bucket as http://host/bucket, which most
	// S3-compatible servers need.
	ForcePathStyle bool
	// Region overrides the SDK's region; us-east-1 when neither sets one.
	Region string
	// PartSize is the multipart part size, at least MinPartSize.
	PartSize int64
	// Concurrency is the number of parts uploaded at once. An upload holds
	// at most PartSize×Concurrency bytes.
	Concurrency int
	// MaxBufferedParts bounds the part buffers every upload of the Bucket
	// holds together (default DefaultMaxBufferedParts, at least
	// Concurrency): a process holds at most PartSize×MaxBufferedParts bytes
	// of them, however many uploads run. Below that, N uploads running at
	// once share N+1 buffers (see bufpool.go).
	MaxBufferedParts int
	// SignPayload makes uploads over plain http:// cover their bodies with
	// the SigV4 signature (a SHA-256 of every byte, on the client and again
	// on the server) instead of the signed CRC32C checksum the server
	// verifies by default. Only an on-path attacker who can rewrite traffic
	// tells the two apart (see upload.go); set it when the endpoint is
	// plain HTTP across a network you do not trust. Over https:// TLS
	// protects the body and it changes nothing.
	SignPayload bool
	// ObjectLockMode is how objects written with a retain-until date are
	// locked when the bucket has Object Lock enabled (DetectObjectLock):
	// "governance" (the default; an account with
	// s3:BypassGovernanceRetention may still delete them), "compliance"
	// (nobody may, the root account included, until the date) or "off".
	ObjectLockMode string
	Logger         *slog.Logger
}

func (c *Config) setDefaults() {
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxBufferedParts == 0 {
		c.MaxBufferedParts = DefaultMaxBufferedParts
	}
	c.MaxBufferedParts = max(c.MaxBufferedParts, c.Concurrency)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports the first unusable setting.
func (c Config) Validate() error {
	switch {
	case c.Bucket == "":
		return fmt.Errorf("s3: no bucket given")
	case c.PartSize != 0 && c.PartSize < MinPartSize:
		return fmt.Errorf("s3: part size %d is below S3's minimum of %d", c.PartSize, MinPartSize)
	case c.Concurrency < 0:
		return fmt.Errorf("s3: negative concurrency %d", c.Concurrency)
	case c.ObjectLockMode != "" && c.ObjectLockMode != "governance" && c.ObjectLockMode != "compliance" && c.ObjectLockMode != "off":
		return fmt.Errorf("s3: object lock mode %q is not governance, compliance or off", c.ObjectLockMode)
	case c.MaxBufferedParts < 0:
		return fmt.Errorf("s3: negative MaxBufferedParts %d", c.MaxBufferedParts)
	}
	return nil
}

// Bucket is an S3 bucket (under an optional prefix).
type Bucket struct {
	client      *s3.Client
	presign     *s3.PresignClient
	bucket      string
	prefix      string
	partSize    int64
	concurrency int
	signPayload bool
	logger      *slog.Logger
	parts       *partPool // every upload's part buffers

	// noChecksums is set once the server answered an unsigned upload
	// without echoing its checksum: it does not verify checksums, so
	// bodies must be covered by the signature (or TLS) instead.
	noChecksums atomic.Bool
	// lockMode is what objects with a retain-until date are written with:
	// "" until DetectObjectLock found the bucket's Object Lock enabled.
	lockMode     types.ObjectLockMode
	wantLockMode string
}

var _ objstore.RetainingWriter = (*Bucket)(nil)

// DetectObjectLock asks the bucket whether Object Lock is enabled
// (GetObjectLockConfiguration) and, when it is and the mode is not off,
// writes objects given a retain-until date under that lock from then on.
// Call it once at start-up, before uploads. Without a lock (or when the
// server cannot tell) objects are written without retention: the error
// says why, for the log, and is nothing to stop for.
func (b *Bucket) DetectObjectLock(ctx context.Context) (enabled bool, err error) {
	if b.wantLockMode == "off" {
		return false, nil
	}
	out, err := b.client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &b.bucket})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "ObjectLockConfigurationNotFoundError" {
			return false, nil
		}
		return false, fmt.Errorf("s3: get object lock configuration of %s: %w", b.bucket, err)
	}
	if out.ObjectLockConfiguration == nil || out.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled {
		return false, nil
	}
	b.lockMode = types.ObjectLockModeGovernance
	if b.wantLockMode == "compliance" {
		b.lockMode = types.ObjectLockModeCompliance
	}
	return true, nil
}

var (
	_ objstore.Bucket    = (*Bucket)(nil)
	_ objstore.Presigner = (*Bucket)(nil)
)

// New connects to the bucket cfg names. It does not contact the server;
// Ping does.
func New(ctx context.Context, cfg Config) (*Bucket, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	// Since 2025 the SDK adds CRC checksums to every request and validates
	// them on responses; many S3-compatible servers reject or lack them.
	// Unless the environment chose, only do it where S3 requires it (our
	// uploads send their own CRC32C, see upload.go). LoadDefaultConfig
	// never leaves these unset: it resolves them to WhenSupported, so they
	// must be given as load options, which take precedence.
	if os.Getenv("AWS_REQUEST_CHECKSUM_CALCULATION") == "" {
		opts = append(opts, config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired))
	}
	if os.Getenv("AWS_RESPONSE_CHECKSUM_VALIDATION") == "" {
		opts = append(opts, config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: load aws config: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.ForcePathStyle
	})
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &Bucket{
		client:       client,
		presign:      s3.NewPresignClient(client),
		bucket:       cfg.Bucket,
		prefix:       prefix,
		partSize:     cfg.PartSize,
		concurrency:  cfg.Concurrency,
		signPayload:  cfg.SignPayload,
		wantLockMode: cfg.ObjectLockMode,
		logger:       cfg.Logger,
		parts:        newPartPool(cfg.PartSize, cfg.MaxBufferedParts),
	}, nil
}

func (b *Bucket) path(key string) string { return b.prefix + key }

// Ping implements objstore.Bucket with HeadBucket.
func (b *Bucket) Ping(ctx context.Context) error {
	if _, err := b.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &b.bucket}); err != nil {
		return fmt.Errorf("s3: head bucket %s: %w", b.bucket, err)
	}
	return nil
}

// Stat implements objstore.Reader.
func (b *Bucket) Stat(ctx context.Context, key string) (objstore.ObjectInfo, error) {
	if err := objstore.ValidateKey(key); err != nil {
		return objstore.ObjectInfo{}, err
	}
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.bucket, Key: aws.String(b.path(key))})
	if err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("s3: head object %s: %w", key, translate(key, err))
	}
	return objstore.ObjectInfo{
		Key:          key,
		Size:         aws.ToInt64(out.ContentLength),
		LastModified: aws.ToTime(out.LastModified),
		ContentType:  aws.ToString(out.ContentType),
	}, nil
}

// GetRange implements objstore.Reader with a Range request. An offset at or
// past the end of a non-empty object is an EINVALID error (S3's
// InvalidRange).
func (b *Bucket) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := objstore.ValidateKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, audit.Invalid("offset", "negative offset %d", offset)
	}
	if length == 0 {
		// "bytes=N-(N-1)" is no range at all: S3 would send everything.
		if _, err := b.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	in := &s3.GetObjectInput{Bucket: &b.bucket, Key: aws.String(b.path(key))}
	ranged := offset > 0 || length > 0
	if ranged {
		// Without a range an empty object reads as empty; with one it is
		// InvalidRange.
		r := fmt.Sprintf("bytes=%d-", offset)
		if length > 0 {
			r += fmt.Sprint(offset + length - 1)
		}
		in.Range = &r
	}
	out, err := b.client.GetObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("s3: get object %s: %w", key, translate(key, err))
	}
	if ranged && out.ContentRange == nil {
		// A server that ignored Range would hand us the wrong bytes.
		out.Body.Close()
		return nil, fmt.Errorf("s3: get object %s: server ignored the range request", key)
	}
	return out.Body, nil
}

// Delete implements objstore.Writer. Deleting a missing key is not an
// error (S3 answers 204 either way).
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := objstore.ValidateKey(key); err != nil {
		return err
	}
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.bucket, Key: aws.String(b.path(key))})
	if err != nil && !errors.Is(translate(key, err), audit.ErrNotFound) {
		if locked := b.lockedBy(ctx, key, err); locked != nil {
			return locked
		}
		return fmt.Errorf("s3: delete object %s: %w", key, err)
	}
	return nil
}

// lockedBy explains a refused deletion when storage itself retains the
// object: S3 Object Lock (a retain-until date in the future, from our own
// upload or the bucket's default retention, or a legal hold set in
// storage). It answers an *objstore.Retained around an ECONFLICT naming the
// lock, which the API shows as a 409 and the sweeper waits for, or nil when the object is not locked (or cannot be asked), so that
// other refusals (credentials, policy) keep their own error. S3 reports the
// lock as a plain AccessDenied, which cannot be told from a policy refusal
// by its code alone: the object's own lock headers can, and failing those
// (a bucket's default retention, which some servers keep on the bucket
// rather than on the object) the message S3 documents for it.
func (b *Bucket) lockedBy(ctx context.Context, key string, refusal error) error {
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.bucket, Key: aws.String(b.path(key))})
	if err != nil {
		return nil //nolint:nilerr // cannot tell: the deletion's own error stands
	}
	if out.ObjectLockLegalHoldStatus == types.ObjectLockLegalHoldStatusOn {
		return &objstore.Retained{Err: audit.Errorf(audit.ECONFLICT,
			"storage keeps object %s under an S3 Object Lock legal hold; it cannot be deleted until that hold is released in the bucket", key)}
	}
	// Storage refused the deletion and the object carries a retain-until
	// date: that date is the reason (storage's clock decided, not ours).
	if out.ObjectLockRetainUntilDate != nil {
		until := *out.ObjectLockRetainUntilDate
		return &objstore.Retained{Until: until, Err: audit.Errorf(audit.ECONFLICT,
			"storage retains object %s until %s (S3 Object Lock, %s mode); it cannot be deleted before then",
			key, until.UTC().Format(time.RFC3339), strings.ToLower(string(out.ObjectLockMode)))}
	}
	var ae smithy.APIError
	if errors.As(refusal, &ae) && ae.ErrorCode() == "AccessDenied" && strings.Contains(strings.ToLower(ae.ErrorMessage()), "object lock") {
		return &objstore.Retained{Err: audit.Errorf(audit.ECONFLICT,
			"storage refuses to delete object %s: it is protected by S3 Object Lock (the bucket's default retention); it cannot be deleted before that retention ends", key)}
	}
	return nil
}

// List implements objstore.Lister, in key order.
func (b *Bucket) List(ctx context.Context, prefix string, fn func(objstore.ObjectInfo) error) error {
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{
		Bucket: &b.bucket,
		Prefix: aws.String(b.path(prefix)),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("s3: list objects %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), b.prefix)
			if !ok {
				continue
			}
			err := fn(objstore.ObjectInfo{
				Key:          key,
				Size:         aws.ToInt64(o.Size),
				LastModified: aws.ToTime(o.LastModified),
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// ListIncompleteUploads implements objstore.UploadJanitor with
// ListMultipartUploads.
func (b *Bucket) ListIncompleteUploads(ctx context.Context, prefix string) ([]objstore.IncompleteUpload, error) {
	p := s3.NewListMultipartUploadsPaginator(b.client, &s3.ListMultipartUploadsInput{
		Bucket: &b.bucket,
		Prefix: aws.String(b.path(prefix)),
	})
	var ups []objstore.IncompleteUpload
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3: list multipart uploads %s: %w", prefix, err)
		}
		for _, u := range page.Uploads {
			key, ok := strings.CutPrefix(aws.ToString(u.Key), b.prefix)
			if !ok {
				continue
			}
			ups = append(ups, objstore.IncompleteUpload{
				Key:       key,
				UploadID:  aws.ToString(u.UploadId),
				Initiated: aws.ToTime(u.Initiated),
			})
		}
	}
	return ups, nil
}

// AbortIncompleteUpload implements objstore.UploadJanitor. Aborting an
// upload that is already gone is not an error.
func (b *Bucket) AbortIncompleteUpload(ctx context.Context, u objstore.IncompleteUpload) error {
	if err := objstore.ValidateKey(u.Key); err != nil {
		return err
	}
	_, err := b.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   &b.bucket,
		Key:      aws.String(b.path(u.Key)),
		UploadId: &u.UploadID,
	})
	var nsu *types.NoSuchUpload
	if err != nil && !errors.As(err, &nsu) && !hasCode(err, "NoSuchUpload") {
		return fmt.Errorf("s3: abort multipart upload %s %s: %w", u.Key, u.UploadID, err)
	}
	return nil
}

// PresignGet implements objstore.Presigner. The URL makes browsers save the
// object as filename.
func (b *Bucket) PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (string, time.Time, error) {
	if err := objstore.ValidateKey(key); err != nil {
		return "", time.Time{}, err
	}
	if ttl <= 0 || ttl > MaxPresignTTL {
		return "", time.Time{}, audit.Invalid("ttl", "presigned URL lifetime %s is not within (0, %s]", ttl, MaxPresignTTL)
	}
	in := &s3.GetObjectInput{Bucket: &b.bucket, Key: aws.String(b.path(key))}
	if filename != "" {
		in.ResponseContentDisposition = aws.String(mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	}
	now := time.Now()
	req, err := b.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("s3: presign get %s: %w", key, err)
	}
	return req.URL, now.Add(ttl), nil
}

// translate turns the SDK's "no such object" into audit.ErrNotFound and an
// unsatisfiable range into EINVALID; anything else is returned as is.
func translate(key string, err error) error {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	switch {
	case errors.As(err, &nsk), errors.As(err, &nf), hasCode(err, "NoSuchKey"), hasCode(err, "NotFound"):
		return audit.NotFound("object %s not found", key)
	case hasCode(err, "InvalidRange"):
		return audit.Invalid("offset", "range not satisfiable for object %s", key)
	}
	return err
}

func hasCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}
