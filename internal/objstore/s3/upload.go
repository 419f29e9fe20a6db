package s3

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/auditsentinel/sentinel/internal/objstore"
)

// abortTimeout bounds the cleanup of a failed upload, which runs even when
// the upload's context was cancelled.
const abortTimeout = 30 * time.Second

// How uploaded bytes are kept intact.
//
// Every request that carries data (PutObject, UploadPart) also carries an
// x-amz-checksum-crc32c header, which the SigV4 signature covers. S3 and
// current S3-compatible servers (MinIO, Ceph RGW, versitygw) compute
// CRC32C over the body they receive, reject the request on a mismatch
// (BadDigest) and echo the checksum in their answer. A multipart
// upload declares CRC32C when it is created and lists every part's
// checksum when it is completed, as S3 requires of checksummed uploads;
// the server combines those into the object's own CRC32C.
//
// The body itself travels as UNSIGNED-PAYLOAD. Otherwise, over plain
// http://, the SDK reads every part once more to SHA-256 it for the
// signature and the server SHA-256es it again to check: in
// BenchmarkUploadCSV that hash was half of the client's CPU and an eighth
// of versitygw's, while CRC32C runs at memory speed (SSE4.2, ARMv8 CRC).
// Over https:// the SDK never signed payloads; what is new there is that
// the server verifies a checksum sent as a header (not in an aws-chunked
// trailer, which some S3-compatible servers do not parse).
//
// The trade-off: CRC32C catches corruption (every error burst up to 32
// bits, anything else but for a 2^-32 chance), not forgery. Someone who
// can rewrite traffic on a plain-http path could substitute a body with
// the same CRC32C; a signed SHA-256 payload stops that, and so does TLS.
// Config.SignPayload brings signed payloads back for plain http across a
// network that is not trusted.
//
// A server that ignores checksum headers answers without echoing them.
// Then an unsigned body was verified by nothing, so sendChecked sends it
// again the SDK's default way (a signed SHA-256 payload over http, TLS
// over https), and the Bucket does that for every later body: such a
// server costs one part sent twice, never an unverified part.

// crc32c is the Castagnoli polynomial's table; hash/crc32 uses the CPU's
// CRC32C instructions for it.
var crc32c = crc32.MakeTable(crc32.Castagnoli)

// checksumCRC32C returns p's CRC32C as S3 spells it: base64 of the
// big-endian bytes.
func checksumCRC32C(p []byte) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.Checksum(p, crc32c))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// unsignedPayload makes a request sign UNSIGNED-PAYLOAD instead of the
// body's SHA-256.
func unsignedPayload(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

// sendChecked makes a data-carrying request whose body has CRC32C sum
// (already in its input) and checks the server verified the body (see
// above). send makes the request with the options given and returns the
// CRC32C the server echoed; it may be called twice, so it must start from
// a fresh body each time.
func (b *Bucket) sendChecked(ctx context.Context, sum string, send func(...func(*s3.Options)) (echoed *string, err error)) error {
	signed := b.signPayload || b.noChecksums.Load()
	var opts []func(*s3.Options)
	if !signed {
		opts = append(opts, unsignedPayload)
	}
	echoed, err := send(opts...)
	switch {
	case err != nil:
		return err
	case echoed != nil && *echoed == sum:
		return nil
	case echoed != nil:
		// The server should have refused the body rather than store it.
		return fmt.Errorf("server computed CRC32C %s of a body whose CRC32C is %s", *echoed, sum)
	case signed:
		return nil // the signature or TLS covered it
	}
	if !b.noChecksums.Swap(true) {
		b.logger.WarnContext(ctx, "s3: the server does not verify checksums (no x-amz-checksum-crc32c in its answer); "+
			"uploads sign their payloads from now on")
	}
	_, err = send()
	return err
}

// Upload implements objstore.Writer. A stream shorter than one part is
// stored with one PutObject; a longer one with a multipart upload whose
// parts are read into at most Concurrency buffers of PartSize bytes, taken
// from the Bucket's pool (see bufpool.go), so memory stays flat whatever
// the length and however many uploads run. A failed or cancelled multipart
// upload is aborted before Upload returns.
func (b *Bucket) Upload(ctx context.Context, key string, r io.Reader, contentType string) (objstore.ObjectInfo, error) {
	return b.upload(ctx, key, r, contentType, time.Time{})
}

// UploadRetained implements objstore.RetainingWriter: Upload, with the
// object locked until until in the bucket's Object Lock mode when
// DetectObjectLock found the lock enabled (otherwise as Upload).
func (b *Bucket) UploadRetained(ctx context.Context, key string, r io.Reader, contentType string, until time.Time) (objstore.ObjectInfo, error) {
	return b.upload(ctx, key, r, contentType, until)
}

// lock is the retention of an object to keep until until: none when the
// bucket has no lock or until is zero.
func (b *Bucket) lock(until time.Time) (types.ObjectLockMode, *time.Time) {
	if b.lockMode == "" || until.IsZero() {
		return "", nil
	}
	u := until.UTC()
	return b.lockMode, &u
}

func (b *Bucket) upload(ctx context.Context, key string, r io.Reader, contentType string, until time.Time) (objstore.ObjectInfo, error) {
	if err := objstore.ValidateKey(key); err != nil {
		return objstore.ObjectInfo{}, err
	}
	parts := b.parts.join()
	defer parts.leave()
	buf, err := parts.get(ctx)
	if err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("s3: upload %s: wait for a part buffer: %w", key, err)
	}
	n, err := io.ReadFull(r, buf)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		defer parts.put(buf)
		return b.put(ctx, key, buf[:n], contentType, until)
	}
	if err != nil {
		parts.put(buf)
		return objstore.ObjectInfo{}, fmt.Errorf("s3: upload %s: read: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		parts.put(buf)
		return objstore.ObjectInfo{}, fmt.Errorf("s3: upload %s: %w", key, err)
	}
	return b.multipart(ctx, key, parts, buf, r, contentType, until)
}

func (b *Bucket) put(ctx context.Context, key string, data []byte, contentType string, until time.Time) (objstore.ObjectInfo, error) {
	sum := checksumCRC32C(data)
	err := b.sendChecked(ctx, sum, func(opts ...func(*s3.Options)) (*string, error) {
		in := &s3.PutObjectInput{
			Bucket:         &b.bucket,
			Key:            aws.String(b.path(key)),
			Body:           bytes.NewReader(data),
			ContentLength:  aws.Int64(int64(len(data))),
			ChecksumCRC32C: &sum,
		}
		in.ObjectLockMode, in.ObjectLockRetainUntilDate = b.lock(until)
		if contentType != "" {
			in.ContentType = &contentType
		}
		out, err := b.client.PutObject(ctx, in, opts...)
		if err != nil {
			return nil, err
		}
		return out.ChecksumCRC32C, nil
	})
	if err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("s3: put object %s: %w", key, err)
	}
	return b.stored(ctx, key, int64(len(data)), contentType), nil
}

// stored describes a just-written object; the server's LastModified is
// worth one HEAD, but not failing an upload that succeeded.
func (b *Bucket) stored(ctx context.Context, key string, size int64, contentType string) objstore.ObjectInfo {
	info, err := b.Stat(ctx, key)
	if err != nil {
		b.logger.WarnContext(ctx, "s3: stat after upload", "key", key, "err", err)
		return objstore.ObjectInfo{Key: key, Size: size, LastModified: time.Now(), ContentType: contentType}
	}
	return info
}

// multipart uploads first (a full part, from parts, which multipart gives
// back) and the rest of r.
func (b *Bucket) multipart(ctx context.Context, key string, parts *uploadParts, first []byte, r io.Reader, contentType string, until time.Time) (_ objstore.ObjectInfo, err error) {
	in := &s3.CreateMultipartUploadInput{
		Bucket: &b.bucket, Key: aws.String(b.path(key)),
		// Parts carry CRC32C checksums (see above), which S3 wants said up
		// front. FULL_OBJECT has the server combine them into the whole
		// object's CRC32C, which the SDK checks on whole-object reads (a
		// COMPOSITE checksum it cannot check, and warns so on stderr).
		// versitygw then also skips computing a CRC64NVME of its own.
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
		ChecksumType:      types.ChecksumTypeFullObject,
	}
	in.ObjectLockMode, in.ObjectLockRetainUntilDate = b.lock(until)
	if contentType != "" {
		in.ContentType = &contentType
	}
	created, err := b.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		parts.put(first)
		return objstore.ObjectInfo{}, fmt.Errorf("s3: upload %s: create multipart upload: %w", key, err)
	}
	id := created.UploadId
	defer func() {
		if err != nil {
			b.abort(ctx, key, id)
		}
	}()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done []types.CompletedPart
		size int64
	)
	// slots bounds this upload's buffers being filled or sent to
	// Concurrency; the buffers themselves come from the Bucket's pool, a
	// slot first, so that an upload never holds a buffer it waits to use.
	slots := make(chan struct{}, b.concurrency)
	slots <- struct{}{} // first's
	send := func(num int32, buf []byte, n int) {
		wg.Go(func() {
			defer func() { parts.put(buf); <-slots }()
			sum := checksumCRC32C(buf[:n])
			var etag *string
			err := b.sendChecked(ctx, sum, func(opts ...func(*s3.Options)) (*string, error) {
				out, err := b.client.UploadPart(ctx, &s3.UploadPartInput{
					Bucket:         &b.bucket,
					Key:            aws.String(b.path(key)),
					UploadId:       id,
					PartNumber:     aws.Int32(num),
					Body:           bytes.NewReader(buf[:n]),
					ContentLength:  aws.Int64(int64(n)),
					ChecksumCRC32C: &sum,
				}, opts...)
				if err != nil {
					return nil, err
				}
				etag = out.ETag
				return out.ChecksumCRC32C, nil
			})
			if err != nil {
				cancel(fmt.Errorf("upload part %d: %w", num, err))
				return
			}
			mu.Lock()
			done = append(done, types.CompletedPart{ETag: etag, PartNumber: aws.Int32(num), ChecksumCRC32C: &sum})
			mu.Unlock()
		})
	}

	num := int32(1)
	send(num, first, len(first))
	size += int64(len(first))
	var readErr error
	for readErr == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		buf, err := parts.get(ctx)
		if err != nil {
			<-slots
			break
		}
		n, err := io.ReadFull(r, buf)
		switch {
		case errors.Is(err, io.EOF):
			readErr = io.EOF
		case errors.Is(err, io.ErrUnexpectedEOF):
			readErr = io.EOF
		case err != nil:
			readErr = fmt.Errorf("read: %w", err)
		}
		if n == 0 || (readErr != nil && !errors.Is(readErr, io.EOF)) {
			parts.put(buf)
			<-slots
			continue
		}
		if num == maxParts {
			readErr = fmt.Errorf("stream is longer than %d parts of %d bytes", maxParts, b.partSize)
			parts.put(buf)
			<-slots
			continue
		}
		num++
		size += int64(n)
		send(num, buf, n)
	}
	wg.Wait()
	if readErr != nil && !errors.Is(readErr, io.EOF) {
		cancel(readErr)
	}
	if err := context.Cause(ctx); err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("s3: upload %s: %w", key, err)
	}

	slices.SortFunc(done, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	_, err = b.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &b.bucket,
		Key:             aws.String(b.path(key)),
		UploadId:        id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	if err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("s3: upload %s: complete multipart upload: %w", key, err)
	}
	return b.stored(ctx, key, size, contentType), nil
}

// abort removes a failed multipart upload's parts. It runs on a context of
// its own: the upload's may be what was cancelled.
func (b *Bucket) abort(ctx context.Context, key string, id *string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, err := b.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: &b.bucket, Key: aws.String(b.path(key)), UploadId: id,
	})
	if err != nil {
		// The sweeper will find it with ListIncompleteUploads.
		b.logger.WarnContext(ctx, "s3: abort multipart upload", "key", key, "upload_id", aws.ToString(id), "err", err)
	}
}
