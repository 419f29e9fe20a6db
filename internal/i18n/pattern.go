package i18n

import (
	"fmt"
	"strings"
)

type tokenKind int

const (
	tokLiteral   tokenKind = iota
	tokDay                 // {d}: day of month, 1-31
	tokDay2                // {dd}: day of month, 01-31
	tokMonthName           // {MMM}: abbreviated month name of the catalogue
	tokMonth2              // {MM}: month, 01-12
	tokYear                // {yyyy}
	tokHour                // {HH}: 00-23
	tokMinute              // {mm}
	tokSecond              // {ss}
	tokZone                // {zone}: zone abbreviation, see ZoneAbbrev
)

var fields = map[string]tokenKind{
	"d": tokDay, "dd": tokDay2, "MMM": tokMonthName, "MM": tokMonth2, "yyyy": tokYear,
	"HH": tokHour, "mm": tokMinute, "ss": tokSecond, "zone": tokZone,
}

type token struct {
	kind tokenKind
	lit  string
}

// compilePattern parses a date-time pattern such as
// "{d} {MMM} {yyyy}, {HH}:{mm}:{ss} {zone}": fields in braces, everything
// else literal. Braces are the only syntax, so translators can write any
// words around the fields.
func compilePattern(p string) ([]token, error) {
	if p == "" {
		return nil, fmt.Errorf("empty pattern")
	}
	var out []token
	for p != "" {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			out = append(out, token{kind: tokLiteral, lit: p})
			break
		}
		if i > 0 {
			out = append(out, token{kind: tokLiteral, lit: p[:i]})
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("unclosed { in %q", p)
		}
		k, ok := fields[p[i+1:i+j]]
		if !ok {
			return nil, fmt.Errorf("unknown field %q", p[i:i+j+1])
		}
		out = append(out, token{kind: k})
		p = p[i+j+1:]
	}
	return out, nil
}
