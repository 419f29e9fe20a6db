// Package ingest turns request bodies into validated audit events.
//
// Two wire formats are accepted. DecodeJSON reads {"events":[…]} — at most
// DefaultJSONLimits().MaxEvents events in at most MaxBytes — and returns the
// whole batch. DecodeNDJSON reads application/x-ndjson, one event per line,
// and hands the events to the caller in bounded chunks as it goes.
//
// A batch is all or nothing in both formats. Every event is validated and
// every problem collected before the caller is told: the error is an
// *audit.Error with code EINVALID, Param "events" and Details []Problem.
//
// For NDJSON, all or nothing is a contract shared with the caller, because
// a large body is never held in memory whole:
//
//   - DecodeNDJSON calls batch with chunks of at most ChunkEvents valid
//     events, in order, only while no problem has been seen. Once one is
//     seen it stops calling batch but keeps reading, so the error still
//     lists every problem of the body.
//   - The caller applies every chunk inside ONE transaction and commits only
//     when DecodeNDJSON returns nil; on any error (invalid event, body over
//     the limit, a failing batch call, a broken connection) it rolls back.
//
// Memory is therefore bounded by one chunk plus the set of client-supplied
// ids seen (for the in-request duplicate check), whatever the body size,
// and the body itself is bounded by MaxBytes and MaxEvents.
package ingest
