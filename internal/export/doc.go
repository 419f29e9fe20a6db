// Package export is the lifecycle of an export, from the request that asks
// for a file to the sweep that deletes it:
//
//   - request (request.go, params.go): Service validates what a client asked
//     for, enforces the PDF cap, attaches identical requests to one durable
//     export record and hands new ones to the queue; Service.Wait and
//     Service.Answer follow the record until the file is there and decide
//     how the request is answered (answer.go).
//   - run (run.go): Runner, on a worker, streams the matching events from
//     the store through a renderer into object storage, and records the
//     file's size, rows and SHA-256 on the export.
//   - sweep (sweep.go): Sweeper expires exports past their retention,
//     re-enqueues exports whose task was lost, fails silent runs and removes
//     uploads and objects no export owns.
//
// The export record in the SQL store (audit.Export) is what the three sides
// share: each reads and moves its status, none calls another directly; the
// queue (package jobs) carries an export from its request to a run.
package export
