package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/auditsentinel/sentinel/internal/objstore"
)

// abortTimeout bounds the cleanup of a failed upload, which runs even when
// the upload's context was cancelled.
const abortTimeout = 30 * time.Second

// Upload implements objstore.Writer. A stream shorter than one part is
// stored with one PutObject; a longer one with a multipart upload whose
// parts are read into at most Concurrency buffers of PartSize bytes, so
// memory stays flat whatever the length. A failed or cancelled multipart
// upload is aborted before Upload returns.
func (b *Bucket) Upload(ctx context.Context, key string, r io.Reader, contentType string) (objstore.ObjectInfo, error) {
	if err := objstore.ValidateKey(key); err != nil {
		return objstore.ObjectInfo{}, err
	}
	buf := make([]byte, b.partSize)
	n, err := io.ReadFull(r, buf)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return b.put(ctx, key, buf[:n], contentType)
	}
	if err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("s3: upload %s: read: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("s3: upload %s: %w", key, err)
	}
	return b.multipart(ctx, key, buf, r, contentType)
}

func (b *Bucket) put(ctx context.Context, key string, data []byte, contentType string) (objstore.ObjectInfo, error) {
	in := &s3.PutObjectInput{
		Bucket:        &b.bucket,
		Key:           aws.String(b.path(key)),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	}
	if contentType != "" {
		in.ContentType = &contentType
	}
	if _, err := b.client.PutObject(ctx, in); err != nil {
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

// multipart uploads first (a full part) and the rest of r.
func (b *Bucket) multipart(ctx context.Context, key string, first []byte, r io.Reader, contentType string) (_ objstore.ObjectInfo, err error) {
	in := &s3.CreateMultipartUploadInput{Bucket: &b.bucket, Key: aws.String(b.path(key))}
	if contentType != "" {
		in.ContentType = &contentType
	}
	created, err := b.client.CreateMultipartUpload(ctx, in)
	if err != nil {
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
		wg    sync.WaitGroup
		mu    sync.Mutex
		parts []types.CompletedPart
		size  int64
	)
	// free holds the buffers not being filled or sent: Concurrency in all.
	free := make(chan []byte, b.concurrency)
	for range b.concurrency - 1 {
		free <- nil // allocated on first use, so small uploads stay small
	}
	send := func(num int32, buf []byte, n int) {
		wg.Go(func() {
			defer func() { free <- buf }()
			out, err := b.client.UploadPart(ctx, &s3.UploadPartInput{
				Bucket:        &b.bucket,
				Key:           aws.String(b.path(key)),
				UploadId:      id,
				PartNumber:    aws.Int32(num),
				Body:          bytes.NewReader(buf[:n]),
				ContentLength: aws.Int64(int64(n)),
			})
			if err != nil {
				cancel(fmt.Errorf("upload part %d: %w", num, err))
				return
			}
			mu.Lock()
			parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
			mu.Unlock()
		})
	}

	num := int32(1)
	send(num, first, len(first))
	size += int64(len(first))
	var readErr error
	for readErr == nil {
		var buf []byte
		select {
		case buf = <-free:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		if buf == nil {
			buf = make([]byte, b.partSize)
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
		if n == 0 || (readErr != nil && readErr != io.EOF) {
			free <- buf
			continue
		}
		if num == maxParts {
			readErr = fmt.Errorf("stream is longer than %d parts of %d bytes", maxParts, b.partSize)
			free <- buf
			continue
		}
		num++
		size += int64(n)
		send(num, buf, n)
	}
	wg.Wait()
	if readErr != nil && readErr != io.EOF {
		cancel(readErr)
	}
	if err := context.Cause(ctx); err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("s3: upload %s: %w", key, err)
	}

	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	_, err = b.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &b.bucket,
		Key:             aws.String(b.path(key)),
		UploadId:        id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
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
