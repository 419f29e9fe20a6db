package ingest

import (
	"fmt"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// Problem is one reason an event of a batch was refused. Index is the
// event's position in the batch (0-based: the array index for JSON, the
// n-th non-blank line for NDJSON); Field is the JSON field at fault, with
// metadata keys as "metadata.KEY", or "" when the event as a whole is.
type Problem struct {
	Index  int    `json:"index"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// problems collects the problems of one batch.
type problems struct {
	list    []Problem
	max     int
	invalid int // events with at least one problem
	lastBad int // index of the last event counted in invalid
	dropped bool
}

func newProblems(max int) *problems { return &problems{max: max, lastBad: -1} }

func (p *problems) add(index int, field, format string, args ...any) {
	if index != p.lastBad {
		p.invalid++
		p.lastBad = index
	}
	if len(p.list) < p.max {
		p.list = append(p.list, Problem{Index: index, Field: field, Reason: fmt.Sprintf(format, args...)})
	} else {
		p.dropped = true
	}
}

func (p *problems) any() bool { return p.invalid > 0 }

// err is the EINVALID error of a batch of total events, nil when every
// event is valid.
func (p *problems) err(total int) error {
	if p.invalid == 0 {
		return nil
	}
	msg := fmt.Sprintf("%d of %d events are invalid", p.invalid, total)
	if p.dropped {
		msg += fmt.Sprintf(" (the first %d problems are listed)", p.max)
	}
	return &audit.Error{Code: audit.EINVALID, Param: "events", Message: msg, Details: p.list}
}
