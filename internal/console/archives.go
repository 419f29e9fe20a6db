package console

import (
	"net/http"
	"net/url"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/manifest"
)

// archivesPageSize is how many exports a page of the archive lists.
const archivesPageSize = "20"

// archiveFilters are the listing's query parameters the console passes
// through to GET /exports.
var archiveFilters = []string{"status", "file_type", "schedule_id", "requested_by", "cursor", "limit"}

type archivesData struct {
	Exports     []archiveRow
	Status      string
	FileType    string
	ScheduleID  string
	RequestedBy string
	Requesters  []option // the requested_by choices
	Next        string   // the next page's URL, "" on the last
	First       string   // the first page's URL when this is not it
	Statuses    []string
	FileTypes   []string
}

// option is one choice of a select.
type option struct{ Value, Label string }

// archiveRow is one export of the archive.
type archiveRow struct {
	exportData
	Requester string     // who asked, in words
	Signature *signature // completed exports only
}

// archives lists the tenant's exports through GET /exports: the API's
// filters, order and cursor paging, its messages on a bad filter; each
// completed export with its manifest's signature checked.
func (c *Console) archives(w http.ResponseWriter, r *request) {
	p := c.authedPage(r, "archives")
	p.Title = p.T("archives.title")
	in := r.URL.Query()
	d := archivesData{Status: in.Get("status"), FileType: in.Get("file_type"), ScheduleID: in.Get("schedule_id"),
		RequestedBy: in.Get("requested_by"), FileTypes: audit.FileTypes,
		Statuses: []string{"queued", "running", "completed", "failed", "expired"}}
	if in.Get("deleted") != "" {
		p.Notice = p.T("archives.deleted")
	}
	q := url.Values{}
	for _, k := range archiveFilters {
		if v := in.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	if q.Get("limit") == "" {
		q.Set("limit", archivesPageSize)
	}
	res, err := c.call(r, http.MethodGet, "/exports", q.Encode(), nil)
	if err != nil {
		c.internal(w, r.Request, err)
		return
	}
	p.Data = &d
	names, err := c.requesters(r, p, &d)
	if err != nil {
		c.internal(w, r.Request, err)
		return
	}
	if f := res.failure(); f != nil {
		if field := fieldOf(f.Param); field != "" && field != "cursor" && field != "limit" {
			p.Errors[field] = f.Message
		} else {
			p.Error = f.Message
		}
		c.render(w, r.Request, "archives", p, res.status)
		return
	}
	var list httpapi.ArchiveList
	if err := res.decode(&list); err != nil {
		c.internal(w, r.Request, err)
		return
	}
	var keys manifest.PublicKeys
	var keysFailed *httpapi.ErrorDetail
	for _, e := range list.Exports {
		row := archiveRow{exportData: statusData(e.ExportStatus), Requester: requesterWords(p, e.RequestedBy, names)}
		if row.Done {
			if keys == nil && keysFailed == nil {
				if keys, keysFailed, err = c.signingKeys(r); err != nil {
					c.internal(w, r.Request, err)
					return
				}
			}
			sig := signature{State: sigUnchecked}
			if keysFailed != nil {
				sig.Detail = keysFailed.Message
			}
			if keys != nil {
				if sig, err = c.checkSignature(r, e.ExportStatus, keys); err != nil {
					c.internal(w, r.Request, err)
					return
				}
			}
			row.Signature = &sig
		}
		d.Exports = append(d.Exports, row)
	}
	if list.NextCursor != "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		if in.Get("limit") == "" {
			nq.Del("limit")
		}
		nq.Set("cursor", list.NextCursor)
		d.Next = Base + "archives?" + nq.Encode()
	}
	if q.Get("cursor") != "" {
		fq := url.Values{}
		for k, v := range q {
			fq[k] = v
		}
		fq.Del("cursor")
		if in.Get("limit") == "" {
			fq.Del("limit")
		}
		d.First = Base + "archives?" + fq.Encode()
	}
	c.render(w, r.Request, "archives", p, http.StatusOK)
}

// confirmDelete asks before deleting: a page of its own works without
// script and cannot be clicked through by accident.
func (c *Console) confirmDelete(w http.ResponseWriter, r *request) {
	p := c.authedPage(r, "archives")
	p.Title = p.T("delete.title")
	res, err := c.call(r, http.MethodGet, "/exports/"+url.PathEscape(r.PathValue("id")), "", nil)
	if err != nil {
		c.internal(w, r.Request, err)
		return
	}
	if f := res.failure(); f != nil {
		p.Error = f.Message
		c.render(w, r.Request, "confirm_delete", p, res.status)
		return
	}
	var st httpapi.ExportStatus
	if err := res.decode(&st); err != nil {
		c.internal(w, r.Request, err)
		return
	}
	p.Data = statusData(st)
	c.render(w, r.Request, "confirm_delete", p, http.StatusOK)
}

func (c *Console) deleteArchive(w http.ResponseWriter, r *request) {
	res, err := c.call(r, http.MethodDelete, "/exports/"+url.PathEscape(r.PathValue("id")), "", nil)
	if err != nil {
		c.internal(w, r.Request, err)
		return
	}
	if f := res.failure(); f != nil {
		p := c.authedPage(r, "archives")
		p.Title, p.Error = p.T("delete.title"), f.Message
		c.render(w, r.Request, "confirm_delete", p, res.status)
		return
	}
	http.Redirect(w, r.Request, Base+"archives?deleted=1", http.StatusSeeOther)
}
