package tracing

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
)

// Carrier is the W3C trace context a task payload carries from the process
// that queued it to the worker that runs it: asynq has no headers, so the
// context travels in the payload, as its "trace" member. Its zero value
// (tracing off, or no span) is left out of the JSON.
type Carrier struct {
	Traceparent string `json:"traceparent,omitempty"`
	Tracestate  string `json:"tracestate,omitempty"`
}

var _ propagation.TextMapCarrier = (*Carrier)(nil)

// Inject returns the trace context of ctx's span.
func Inject(ctx context.Context) Carrier {
	var c Carrier
	Propagator().Inject(ctx, &c)
	return c
}

// Extract returns ctx with the remote span c names as its parent; ctx as
// it is when c is empty or malformed.
func Extract(ctx context.Context, c Carrier) context.Context {
	return Propagator().Extract(ctx, &c)
}

// Get returns a W3C header's value.
func (c *Carrier) Get(key string) string {
	switch key {
	case "traceparent":
		return c.Traceparent
	case "tracestate":
		return c.Tracestate
	}
	return ""
}

// Set sets a W3C header's value; other keys are dropped.
func (c *Carrier) Set(key, value string) {
	switch key {
	case "traceparent":
		c.Traceparent = value
	case "tracestate":
		c.Tracestate = value
	}
}

// Keys lists the headers that are set.
func (c *Carrier) Keys() []string {
	var keys []string
	if c.Traceparent != "" {
		keys = append(keys, "traceparent")
	}
	if c.Tracestate != "" {
		keys = append(keys, "tracestate")
	}
	return keys
}
