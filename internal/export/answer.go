package export

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/live"
)

// MaxLiveStreams bounds the export requests answered while they render at
// once per API process (see Service.Live), and so the memory they hold:
// each holds up to 4 MiB and a read's worth of entries. Past it, requests
// wait for the stored file instead. The Redis client that reads the
// streams needs more connections than this: each live answer blocks one.
const MaxLiveStreams = 64

// AnswerRequest is a request for an export's file that may wait for it
// (GET /events/export).
type AnswerRequest struct {
	TenantID string
	Params   audit.ExportParams
	Options  Options
	// Wait is how long the request may wait for the file; 0 answers at
	// once with the export as it is.
	Wait time.Duration
	// Ranged says the client asked for bytes of the stored file (a Range
	// header): such a request waits for the file, it is never answered
	// as the export renders.
	Ranged bool
}

// OutcomeKind says how a request is to be answered.
type OutcomeKind int

const (
	// Pending says the export is still under way after the wait; the client
	// is told where to look for it (202).
	Pending OutcomeKind = iota
	// Done says the export will not change any more. Its record says how it
	// ended: a stored file, a failure, or an expiry.
	Done
	// Streaming says the export is still rendering and is answered as it
	// renders, with Outcome.Copy.
	Streaming
)

// Outcome is what Service.Answer decided.
type Outcome struct {
	Kind OutcomeKind
	// Export is the latest record read (set whenever the export is known,
	// also when Answer fails after requesting it).
	Export audit.Export
	// Created says the request made a new export rather than attaching to
	// an identical one (reused; see RequestStore.CreateOrAttachExport).
	Created bool

	waited   live.Waited
	follower *live.Follower
	release  func()
}

// Copy writes a Streaming outcome's bytes to w as the worker publishes
// them (live.Follower.Copy): it returns the completed record the body was
// checked against, ctx's error when the client went away, or an error
// wrapping live.ErrAborted when the body must not end like a complete one.
func (o Outcome) Copy(ctx context.Context, w io.Writer) (audit.Export, error) {
	if o.Kind != Streaming || o.follower == nil {
		return o.Export, errors.New("export: copy of an outcome that is not streaming")
	}
	return o.follower.Copy(ctx, w, o.waited)
}

// Release frees the live slot the request may hold (MaxLiveStreams). Call
// it once the answer is written; calling it again does nothing.
func (o Outcome) Release() {
	if o.release != nil {
		o.release()
	}
}

// Answer requests the export r asks for (Service.Request), waits up to
// r.Wait for it, and decides how the request is answered: with the export
// done (its file, failure or expiry), as it renders (a CSV still rendering
// when its first bytes are published, when s.Live is set), or pending. The
// caller must Release the outcome once it has answered; on error Answer
// has released it.
func (s *Service) Answer(ctx context.Context, r AnswerRequest) (out Outcome, err error) {
	defer func() {
		if err != nil {
			out.Release()
		}
	}()
	// A CSV may be streamed as it renders (a Range asks for bytes of a
	// stored file, so it waits for one). The export's validated params
	// decide, and the reader registers before the export is queued.
	stream := false
	opts := r.Options
	if s.Live != nil && r.Wait > 0 && !r.Ranged {
		before := opts.BeforeQueue
		opts.BeforeQueue = func(ctx context.Context, e audit.Export) {
			if before != nil {
				before(ctx, e)
			}
			if !Streams(e.Params) {
				return
			}
			release, ok := s.takeLiveSlot()
			if !ok {
				return
			}
			stream, out.release = true, release
			if err := s.Live.Source.Want(ctx, e.ID); err != nil {
				s.Logger.WarnContext(ctx, "live: register the waiting reader; the file comes when stored", "export_id", e.ID, "err", err)
			}
		}
	}
	e, created, err := s.Request(ctx, r.TenantID, r.Params, opts)
	if err != nil {
		return out, err
	}
	out.Export, out.Created = e, created
	if !e.Status.Done() && r.Wait > 0 {
		started := time.Now()
		waited := false
		// The stream wakes the wait when the export is done. A CSV that
		// will not be streamed to this request polls the record instead:
		// its stream may carry another request's bytes, which it would
		// read for nothing.
		if s.Live != nil && (stream || !Streams(e.Params)) {
			lw, ok := s.Live.Wait(ctx, r.TenantID, e, r.Wait, stream)
			out.Export, waited = lw.Export, ok
			if ok && lw.Streamable() {
				out.Kind, out.waited, out.follower = Streaming, lw, s.Live
				return out, nil
			}
		}
		if left := r.Wait - time.Since(started); !waited && left > 0 {
			cur, err := s.Wait(ctx, r.TenantID, e.ID, left)
			if err != nil {
				return out, err
			}
			out.Export = cur
		}
	}
	if out.Export.Status.Done() {
		out.Kind = Done
	}
	return out, nil
}

// takeLiveSlot takes one of MaxLiveStreams slots, without waiting: past
// them, requests wait for the stored file instead.
func (s *Service) takeLiveSlot() (release func(), ok bool) {
	s.liveSlotsOnce.Do(func() { s.liveSlots = make(chan struct{}, MaxLiveStreams) })
	select {
	case s.liveSlots <- struct{}{}:
		return sync.OnceFunc(func() { <-s.liveSlots }), true
	default:
		return nil, false
	}
}
