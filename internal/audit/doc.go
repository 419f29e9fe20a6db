// Package audit is the domain of Audit Sentinel: audit events, the filters
// that select them, export jobs, the schedules that fire them and the
// records of their webhooks, and the error vocabulary shared by every
// layer. It knows nothing of HTTP, SQL, Redis or S3; adapters in sibling
// packages implement the ports declared here.
package audit
