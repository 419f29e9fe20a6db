package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/i18n"
	"github.com/auditsentinel/sentinel/internal/selfaudit"
)

// listFields are the export endpoint's list parameters: a textarea each,
// one value per line.
var listFields = []string{"event_type", "sub_type", "system_source", "auditee_id"}

// exportFormData is the export form's values, kept on a refusal.
type exportFormData struct {
	Lists      map[string]string
	Metadata   string
	RangeStart string
	RangeEnd   string
	FileType   string
	Locale     string
	Timezone   string
	WebhookURL string
	// The file's options (CSV, NDJSON, PDF), sent only when not the
	// default, so that a plain request stays the request it always was.
	Compression string
	Delimiter   string
	BOM         bool
	Columns     string
	Paper       string

	Locales     []string
	ListFields  []string
	MetaKeys    []string
	Delimiters  []string
	ColumnNames []string
}

// fileOptionDefaults are the export endpoint's defaults of the options the
// form always has a value for.
var fileOptionDefaults = map[string]string{"compression": "none", "delimiter": "comma", "paper": "a4"}

func newExportForm() exportFormData {
	return exportFormData{Lists: map[string]string{}, FileType: "csv", Locale: "en", Timezone: "UTC",
		Compression: fileOptionDefaults["compression"], Delimiter: fileOptionDefaults["delimiter"],
		Paper: fileOptionDefaults["paper"], Locales: i18n.Supported(), ListFields: listFields,
		MetaKeys: audit.MetadataKeys, Delimiters: []string{"comma", "semicolon", "tab"}, ColumnNames: audit.ColumnNames}
}

func (c *Console) exportForm(w http.ResponseWriter, r *request) {
	p := c.authedPage(r, "export")
	p.Title = p.T("export.title")
	f := newExportForm()
	f.Locale = p.Lang
	p.Data = f
	c.render(w, r.Request, "export_form", p, http.StatusOK)
}

func lines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// requestExport turns the form into the export endpoint's query string and
// hands it to the API's parser and the export service: what the API would
// refuse is refused here with the same message, next to the field the
// error names.
func (c *Console) requestExport(w http.ResponseWriter, r *request) {
	f := newExportForm()
	q := url.Values{}
	for _, name := range listFields {
		f.Lists[name] = r.PostFormValue(name)
		for _, v := range lines(f.Lists[name]) {
			q.Add(name, v)
		}
	}
	p := c.authedPage(r, "export")
	p.Title = p.T("export.title")
	f.Metadata = r.PostFormValue("metadata")
	for _, l := range lines(f.Metadata) {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			p.Errors["metadata"] = p.T("export.metadata_line", l)
			continue
		}
		q.Add("metadata["+strings.TrimSpace(k)+"]", strings.TrimSpace(v))
	}
	f.RangeStart, f.RangeEnd = r.PostFormValue("range_start"), r.PostFormValue("range_end")
	f.FileType, f.Locale = r.PostFormValue("file_type"), r.PostFormValue("locale")
	f.Timezone, f.WebhookURL = r.PostFormValue("timezone"), r.PostFormValue("webhook_url")
	f.Compression, f.Delimiter, f.Paper = r.PostFormValue("compression"), r.PostFormValue("delimiter"), r.PostFormValue("paper")
	f.Columns, f.BOM = r.PostFormValue("columns"), r.PostFormValue("bom") == "true"
	for name, v := range map[string]string{"range_start": f.RangeStart, "range_end": f.RangeEnd, "file_type": f.FileType,
		"locale": f.Locale, "timezone": f.Timezone, "webhook_url": f.WebhookURL, "compression": f.Compression,
		"delimiter": f.Delimiter, "paper": f.Paper, "columns": f.Columns} {
		if v = strings.TrimSpace(v); v != "" && v != fileOptionDefaults[name] {
			q.Set(name, v)
		}
	}
	if f.BOM {
		q.Set("bom", "true")
	}
	p.Data = f
	if len(p.Errors) > 0 {
		c.render(w, r.Request, "export_form", p, http.StatusBadRequest)
		return
	}
	params, opts, err := httpapi.ParseExportQuery(q.Encode())
	if err == nil {
		// Who asked, as the API's handler records it: the archive and the
		// signed manifest name the key.
		opts.RequesterKeyID, opts.RequesterKeyName = r.key.ID, r.key.Name
		params, err = httpapi.AuthorizeExport(r.key, params)
	}
	if err == nil {
		var e audit.Export
		e, _, err = c.cfg.Exports.Request(r.Context(), r.sess.Tenant, params, opts)
		if err == nil {
			// The API records the requests it takes (httpapi's
			// auditedRoutes); this one does not pass through it.
			if c.cfg.Audit != nil {
				c.cfg.Audit.Record(r.Context(), selfaudit.Event(r.sess.Tenant, audit.SelfAuditExportType, "requested", e.ID,
					selfaudit.KeyActor(r.key), c.cfg.Now(), "export requested: "+e.ID,
					map[string]string{"export_id": e.ID, "via": "console"}))
			}
			http.Redirect(w, r.Request, Base+"exports/"+url.PathEscape(e.ID), http.StatusSeeOther)
			return
		}
	}
	ae := audit.AsError(err)
	if ae == nil || ae.Code == audit.EINTERNAL {
		c.internal(w, r.Request, err)
		return
	}
	status := http.StatusBadRequest
	if ae.Code == audit.EFORBIDDEN {
		status = http.StatusForbidden
	}
	if field := fieldOf(ae.Param); slices.Contains(exportFormFields, field) {
		p.Errors[field] = audit.ErrorMessage(err)
	} else {
		// Not about a field (the key's scope, a cap): above the form.
		p.Error = audit.ErrorMessage(err)
	}
	c.render(w, r.Request, "export_form", p, status)
}

// exportFormFields are the export form's fields an error can sit by.
var exportFormFields = append([]string{"metadata", "range_start", "range_end", "file_type", "locale", "timezone",
	"webhook_url", "compression", "delimiter", "bom", "columns", "paper"}, listFields...)

// fieldOf is the form field an API error's param belongs to.
func fieldOf(param string) string {
	name := strings.TrimSuffix(param, "[]")
	switch {
	case strings.HasPrefix(name, "metadata"):
		return "metadata"
	case name == "query" || name == "":
		return ""
	}
	return name
}

// exportPage shows one export; its script polls the status and moves the
// progress bar until the file is there.
func (c *Console) exportPage(w http.ResponseWriter, r *request) {
	p := c.authedPage(r, "archives")
	res, err := c.call(r, http.MethodGet, "/exports/"+url.PathEscape(r.PathValue("id")), "", nil)
	if err != nil {
		c.internal(w, r.Request, err)
		return
	}
	if f := res.failure(); f != nil {
		p.Title, p.Error = p.T("export.status_title"), f.Message
		c.render(w, r.Request, "export", p, res.status)
		return
	}
	var st httpapi.ExportStatus
	if err := res.decode(&st); err != nil {
		c.internal(w, r.Request, err)
		return
	}
	p.Title = p.T("export.status_title")
	p.Data = statusData(st)
	c.render(w, r.Request, "export", p, http.StatusOK)
}

// exportData is an export as a page shows it.
type exportData struct {
	httpapi.ExportStatus
	Total int64
	// Approx: Total is the database's estimate (rows_estimate), shown
	// with a "~".
	Approx bool
	Done   bool
}

func statusData(st httpapi.ExportStatus) exportData {
	d := exportData{ExportStatus: st, Total: -1, Done: st.Status == string(audit.StatusCompleted)}
	if st.RowsTotal != nil {
		d.Total = *st.RowsTotal
	} else if st.RowsEstimate != nil {
		d.Total, d.Approx = *st.RowsEstimate, true
	}
	return d
}
