package export

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// ValueStore tells which filter values a tenant's events hold.
type ValueStore interface {
	// MissingValues returns those of values no event of tenantID holds for
	// the list filter param (event_type, sub_type, system_source,
	// auditee_id, metadata[KEY]).
	MissingValues(ctx context.Context, tenantID, param string, values []string) ([]string, error)
	// KnownValues returns up to limit distinct values of param's column.
	KnownValues(ctx context.Context, tenantID, param string, limit int) ([]string, error)
}

// Warning says that a list filter value matches no event of the tenant at
// all: event types are open-ended, so it is not an error, but a misspelled
// value (event_type=assesment) would otherwise give a silently empty file.
type Warning struct {
	Param   string   `json:"param"`
	Value   string   `json:"value"`
	Message string   `json:"message"`
	Closest []string `json:"closest,omitempty"`
}

// Bounds of the warnings: how many known values are compared, how many
// are suggested, and how long looking may take (warnings never delay an
// export by more, nor fail it).
const (
	knownValuesLimit = 2000
	maxClosest       = 3
	warningsTimeout  = 2 * time.Second
)

// Warnings returns a Warning for each list filter value of p that no event
// of tenantID holds, with the closest values it does hold. A failure to
// look is logged and yields no warnings.
func (s *Service) Warnings(ctx context.Context, tenantID string, p audit.ExportParams) []Warning {
	if s.Values == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, warningsTimeout)
	defer cancel()
	f := p.Filter
	lists := []struct {
		param string
		vals  []string
	}{{"event_type", f.EventTypes}, {"sub_type", f.SubTypes}, {"system_source", f.SystemSources}, {"auditee_id", f.AuditeeIDs}}
	keys := make([]string, 0, len(f.Metadata))
	for k := range f.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		lists = append(lists, struct {
			param string
			vals  []string
		}{"metadata[" + k + "]", f.Metadata[k]})
	}
	var out []Warning
	for _, l := range lists {
		if len(l.vals) == 0 {
			continue
		}
		missing, err := s.Values.MissingValues(ctx, tenantID, l.param, l.vals)
		if err == nil && len(missing) > 0 {
			var known []string
			known, err = s.Values.KnownValues(ctx, tenantID, l.param, knownValuesLimit)
			for _, v := range missing {
				out = append(out, Warning{Param: l.param, Value: v, Closest: closest(v, known),
					Message: l.param + " " + quote(v) + " matches no event of this tenant; the file holds no event for it"})
			}
		}
		if err != nil {
			s.Logger.WarnContext(ctx, "export: could not check filter values for warnings", "tenant", tenantID,
				"param", l.param, "err", err)
			return out
		}
	}
	return out
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// closest returns up to maxClosest of known nearest to v by edit distance
// (case-insensitive), among those close enough to be a plausible typo.
func closest(v string, known []string) []string {
	type cand struct {
		s string
		d int
	}
	lv := strings.ToLower(v)
	limit := max(2, len([]rune(v))/3)
	var cs []cand
	for _, k := range known {
		if d := editDistance(lv, strings.ToLower(k)); d <= limit {
			cs = append(cs, cand{k, d})
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return a.d - b.d })
	var out []string
	for _, c := range cs[:min(len(cs), maxClosest)] {
		out = append(out, c.s)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
