package httpapi

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
)

// exportQueryParams are the export endpoint's parameters, for the message
// that answers a typo.
var exportQueryParams = []string{
	"auditee_id", "bom", "columns", "compression", "delimiter", "event_type", "file_type", "locale", "metadata[KEY]", "paper",
	"range_end", "range_start", "sub_type", "system_source", "timezone", "webhook_url",
}

// maxQueryValues bounds how many key=value pairs a query may hold.
const maxQueryValues = 500

// parseExportQuery turns the export endpoint's query string into params and
// the options that do not change the file (webhook_url). An unknown parameter is an error, never ignored: a typo such as
// `event_typ=` must not silently export everything.
//
// Accepted forms: repeated keys (event_type=a&event_type=b), the bracket
// form (event_type[]=a), metadata[KEY]=VALUE, and — because the reference
// document's own sample writes it so — metadata[KEY=VALUE] (the closing
// bracket after the value).
func parseExportQuery(raw string) (audit.ExportParams, export.Options, error) {
	var o export.Options
	p, err := parseExportParams(raw, &o)
	return p, o, err
}

func parseExportParams(raw string, o *export.Options) (audit.ExportParams, error) {
	var p audit.ExportParams
	q, err := url.ParseQuery(raw)
	if err != nil {
		return p, audit.Invalid("query", "the query string is malformed: %v", unwrapURLError(err))
	}
	n := 0
	for _, vs := range q {
		n += len(vs)
	}
	if n > maxQueryValues {
		return p, audit.Invalid("query", "at most %d query values, got %d", maxQueryValues, n)
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic: the first error reported is stable
	f := &p.Filter
	for _, key := range keys {
		vals := q[key]
		name := strings.TrimSuffix(key, "[]")
		switch name {
		case "auditee_id":
			f.AuditeeIDs = append(f.AuditeeIDs, vals...)
		case "event_type":
			f.EventTypes = append(f.EventTypes, vals...)
		case "sub_type":
			f.SubTypes = append(f.SubTypes, vals...)
		case "system_source":
			f.SystemSources = append(f.SystemSources, vals...)
		case "file_type", "locale", "timezone", "range_start", "range_end", "paper",
			"bom", "columns", "compression", "delimiter":
			if name != key {
				return p, audit.Invalid(key, "%s takes one value, not a list", name)
			}
			v, err := single(name, vals)
			if err != nil {
				return p, err
			}
			if err := setScalar(&p, name, v); err != nil {
				return p, err
			}
		case "webhook_url":
			if name != key {
				return p, audit.Invalid(key, "webhook_url takes one value, not a list")
			}
			v, err := single(name, vals)
			if err != nil {
				return p, err
			}
			// Its form and host are checked by the export service.
			o.WebhookURL = v
		default:
			mk, mv, ok, err := metadataParam(key, vals)
			if err != nil {
				return p, err
			}
			if !ok && key == "" {
				return p, audit.Invalid("query", "a query parameter has no name (…&=value); write name=value")
			}
			if !ok {
				return p, &audit.Error{Code: audit.EINVALID, Param: key, Allowed: exportQueryParams,
					Message: fmt.Sprintf("unknown query parameter %q; allowed: %s", key, strings.Join(exportQueryParams, ", "))}
			}
			if f.Metadata == nil {
				f.Metadata = map[string][]string{}
			}
			f.Metadata[mk] = append(f.Metadata[mk], mv...)
		}
	}
	return p, nil
}

// metadataParam recognises metadata[KEY]=V, metadata[KEY][]=V and the
// document's metadata[KEY=V] spelling.
func metadataParam(key string, vals []string) (string, []string, bool, error) {
	rest, ok := strings.CutPrefix(key, "metadata[")
	if !ok {
		if key == "metadata" {
			return "", nil, false, audit.Invalid("metadata",
				"metadata filters are written metadata[KEY]=VALUE, e.g. metadata[entity_id]=497f6eca-6276-4993-bfeb-53cbbbba6f08")
		}
		return "", nil, false, nil
	}
	if k, ok := strings.CutSuffix(rest, "]"); ok && !strings.Contains(k, "]") {
		return k, vals, true, nil
	}
	if k, ok := strings.CutSuffix(rest, "][]"); ok && !strings.Contains(k, "]") {
		return k, vals, true, nil
	}
	if !strings.Contains(rest, "]") {
		// metadata[entity_id=VALUE] arrives as key "metadata[entity_id"
		// and value "VALUE]".
		out := make([]string, 0, len(vals))
		for _, v := range vals {
			v, ok := strings.CutSuffix(v, "]")
			if !ok {
				return "", nil, false, audit.Invalid(key, "malformed metadata filter %q; write metadata[KEY]=VALUE", key)
			}
			out = append(out, v)
		}
		return rest, out, true, nil
	}
	return "", nil, false, audit.Invalid(key, "malformed metadata filter %q; write metadata[KEY]=VALUE", key)
}

func single(name string, vals []string) (string, error) {
	v := vals[0]
	for _, o := range vals[1:] {
		if o != v {
			return "", audit.Invalid(name, "%s was given more than once with different values", name)
		}
	}
	return v, nil
}

// setScalar stores one scalar parameter. An empty value or "null" means
// unset, as the reference document types these "string or null".
func setScalar(p *audit.ExportParams, name, v string) error {
	if v == "" || v == "null" {
		return nil
	}
	switch name {
	case "file_type":
		p.FileType = audit.FileType(strings.ToLower(v))
	case "locale":
		p.Locale = strings.ToLower(v)
	case "timezone":
		p.Timezone = v
	case "paper":
		p.Paper = audit.Paper(v)
	case "bom":
		switch strings.ToLower(v) {
		case "true", "1":
			p.BOM = true
		case "false", "0":
			p.BOM = false
		default:
			return &audit.Error{Code: audit.EINVALID, Param: "bom", Allowed: []string{"true", "false"},
				Message: fmt.Sprintf("bom is true or false, got %q", v)}
		}
	case "delimiter":
		p.Delimiter = strings.ToLower(v)
	case "compression":
		p.Compression = audit.Compression(strings.ToLower(v))
	case "columns":
		// One comma-separated list, in the order the file gets them;
		// export.Validate checks the names.
		for _, c := range strings.Split(v, ",") {
			p.Columns = append(p.Columns, strings.TrimSpace(c))
		}
	case "range_start", "range_end":
		t, err := export.ParseTime(name, v)
		if err != nil {
			return err
		}
		if name == "range_start" {
			p.Filter.RangeStart = &t
		} else {
			p.Filter.RangeEnd = &t
		}
	}
	return nil
}

func unwrapURLError(err error) error {
	if e := url.EscapeError(""); errors.As(err, &e) {
		return fmt.Errorf("invalid percent-encoding %q", string(e))
	}
	return err
}
