package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/i18n"
)

type scheduleRow struct {
	httpapi.ScheduleView
	CronWords   string
	WindowWords string
}

func (c *Console) describe(p *page, v httpapi.ScheduleView) scheduleRow {
	return scheduleRow{ScheduleView: v, CronWords: describeCron(p, v.Cron, v.Timezone),
		WindowWords: describeWindow(p, v.Window)}
}

func (c *Console) schedules(w http.ResponseWriter, r *request) {
	p := c.authedPage(r, "schedules")
	p.Title = p.T("schedules.title")
	q := url.Values{"limit": {"100"}}
	if cur := r.URL.Query().Get("cursor"); cur != "" {
		q.Set("cursor", cur)
	}
	res, err := c.call(r, http.MethodGet, "/export-schedules", q.Encode(), nil)
	if err != nil {
		c.internal(w, r.Request, err)
		return
	}
	if f := res.failure(); f != nil {
		p.Error = f.Message
		c.render(w, r.Request, "schedules", p, res.status)
		return
	}
	var list httpapi.ScheduleList
	if err := res.decode(&list); err != nil {
		c.internal(w, r.Request, err)
		return
	}
	var rows []scheduleRow
	for _, v := range list.Schedules {
		rows = append(rows, c.describe(p, v))
	}
	next := ""
	if list.NextCursor != "" {
		next = Base + "schedules?" + url.Values{"cursor": {list.NextCursor}}.Encode()
	}
	p.Data = map[string]any{"Schedules": rows, "Next": next}
	c.render(w, r.Request, "schedules", p, http.StatusOK)
}

// scheduleFormData is the schedule form's values.
type scheduleFormData struct {
	ID            string
	Name          string
	Cron          string
	Timezone      string
	WindowKind    string
	WindowHours   string
	Lists         map[string]string
	FileType      string
	Locale        string
	FilterZone    string
	RetentionDays string
	WebhookURL    string
	WindowKinds   []string
	Locales       []string
	ListFields    []string
	CronWords     string
	WindowWords   string
}

func (c *Console) scheduleForm(w http.ResponseWriter, r *request) {
	p := c.authedPage(r, "schedules")
	f := scheduleFormData{Cron: "0 6 * * 1", Timezone: "UTC", WindowKind: string(audit.PreviousWeek), FileType: "csv",
		Locale: p.Lang, FilterZone: "UTC", Lists: map[string]string{}, WindowKinds: audit.WindowKinds,
		Locales: i18n.Supported(), ListFields: listFields}
	p.Title = p.T("schedule.new")
	if id := r.PathValue("id"); id != "" {
		res, err := c.call(r, http.MethodGet, "/export-schedules/"+url.PathEscape(id), "", nil)
		if err != nil {
			c.internal(w, r.Request, err)
			return
		}
		if fl := res.failure(); fl != nil {
			p.Error = fl.Message
			p.Data = f
			c.render(w, r.Request, "schedule_form", p, res.status)
			return
		}
		var v httpapi.ScheduleView
		if err := res.decode(&v); err != nil {
			c.internal(w, r.Request, err)
			return
		}
		p.Title = p.T("schedule.edit")
		f.ID, f.Name, f.Cron, f.Timezone, f.WindowKind = v.ID, v.Name, v.Cron, v.Timezone, string(v.Window.Kind)
		if v.Window.Hours > 0 {
			f.WindowHours = strconv.Itoa(v.Window.Hours)
		}
		f.FileType, f.Locale, f.FilterZone = v.Filters.FileType, v.Filters.Locale, v.Filters.Timezone
		f.RetentionDays, f.WebhookURL = strconv.Itoa(v.RetentionDays), v.WebhookURL
		f.Lists["event_type"] = strings.Join(v.Filters.EventType, "\n")
		f.Lists["sub_type"] = strings.Join(v.Filters.SubType, "\n")
		f.Lists["system_source"] = strings.Join(v.Filters.SystemSource, "\n")
		f.Lists["auditee_id"] = strings.Join(v.Filters.AuditeeID, "\n")
		f.CronWords, f.WindowWords = describeCron(p, v.Cron, v.Timezone), describeWindow(p, v.Window)
	}
	p.Data = f
	c.render(w, r.Request, "schedule_form", p, http.StatusOK)
}

// saveSchedule posts the form as the API's schedule body (POST to create,
// PATCH to edit); a refusal shows the API's message by the field it names.
func (c *Console) saveSchedule(w http.ResponseWriter, r *request) {
	p := c.authedPage(r, "schedules")
	id := r.PathValue("id")
	f := scheduleFormData{ID: id, Name: r.PostFormValue("name"), Cron: r.PostFormValue("cron"),
		Timezone: r.PostFormValue("timezone"), WindowKind: r.PostFormValue("window.kind"),
		WindowHours: r.PostFormValue("window.hours"), Lists: map[string]string{},
		FileType: r.PostFormValue("filters.file_type"), Locale: r.PostFormValue("filters.locale"),
		FilterZone: r.PostFormValue("filters.timezone"), RetentionDays: r.PostFormValue("retention_days"),
		WebhookURL: r.PostFormValue("webhook_url"), WindowKinds: audit.WindowKinds, Locales: i18n.Supported(),
		ListFields: listFields}
	p.Title = p.T("schedule.new")
	if id != "" {
		p.Title = p.T("schedule.edit")
	}
	p.Data = &f
	filters := map[string]any{"file_type": f.FileType, "locale": f.Locale, "timezone": f.FilterZone}
	for _, name := range listFields {
		f.Lists[name] = r.PostFormValue("filters." + name)
		filters[name] = orEmpty(lines(f.Lists[name]))
	}
	window := map[string]any{"kind": f.WindowKind}
	if f.WindowHours != "" {
		h, err := strconv.Atoi(strings.TrimSpace(f.WindowHours))
		if err != nil {
			p.Errors["window.hours"] = p.T("form.integer")
		}
		window["hours"] = h
	}
	body := map[string]any{"name": f.Name, "cron": f.Cron, "timezone": f.Timezone, "window": window, "filters": filters}
	if f.RetentionDays != "" {
		n, err := strconv.Atoi(strings.TrimSpace(f.RetentionDays))
		if err != nil {
			p.Errors["retention_days"] = p.T("form.integer")
		}
		body["retention_days"] = n
	}
	if strings.TrimSpace(f.WebhookURL) != "" {
		body["webhook_url"] = strings.TrimSpace(f.WebhookURL)
	} else if id != "" {
		body["webhook_url"] = nil
	}
	if len(p.Errors) > 0 {
		c.render(w, r.Request, "schedule_form", p, http.StatusBadRequest)
		return
	}
	method, path := http.MethodPost, "/export-schedules"
	if id != "" {
		method, path = http.MethodPatch, "/export-schedules/"+url.PathEscape(id)
	}
	res, err := c.call(r, method, path, "", body)
	if err != nil {
		c.internal(w, r.Request, err)
		return
	}
	if fl := res.failure(); fl != nil {
		if fl.Param != "" && fl.Param != "body" {
			p.Errors[fl.Param] = fl.Message
		}
		if fl.Param == "" || fl.Param == "body" || !knownScheduleField(fl.Param) {
			p.Error = fl.Message
		}
		c.render(w, r.Request, "schedule_form", p, res.status)
		return
	}
	var v httpapi.ScheduleView
	if err := res.decode(&v); err != nil {
		c.internal(w, r.Request, err)
		return
	}
	http.Redirect(w, r.Request, Base+"schedules/"+url.PathEscape(v.ID), http.StatusSeeOther)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func knownScheduleField(param string) bool {
	switch param {
	case "name", "cron", "timezone", "window.kind", "window.hours", "retention_days", "webhook_url",
		"filters.file_type", "filters.locale", "filters.timezone", "filters.event_type", "filters.sub_type",
		"filters.system_source", "filters.auditee_id":
		return true
	}
	return false
}

// schedulePage shows a schedule with its runs (the exports it fired) and
// its webhook deliveries.
func (c *Console) schedulePage(w http.ResponseWriter, r *request) {
	p := c.authedPage(r, "schedules")
	p.Title = p.T("schedule.title")
	id := r.PathValue("id")
	res, err := c.call(r, http.MethodGet, "/export-schedules/"+url.PathEscape(id), "", nil)
	if err != nil {
		c.internal(w, r.Request, err)
		return
	}
	if f := res.failure(); f != nil {
		p.Error = f.Message
		c.render(w, r.Request, "schedule", p, res.status)
		return
	}
	var v httpapi.ScheduleView
	if err := res.decode(&v); err != nil {
		c.internal(w, r.Request, err)
		return
	}
	data := map[string]any{"Schedule": c.describe(p, v)}
	runs, err := c.call(r, http.MethodGet, "/exports", url.Values{"schedule_id": {id}, "limit": {"20"}}.Encode(), nil)
	if err != nil {
		c.internal(w, r.Request, err)
		return
	}
	var list httpapi.ArchiveList
	if runs.failure() == nil && runs.decode(&list) == nil {
		var rows []exportData
		for _, e := range list.Exports {
			rows = append(rows, statusData(e.ExportStatus))
		}
		data["Runs"] = rows
	}
	dels, err := c.call(r, http.MethodGet, "/export-schedules/"+url.PathEscape(id)+"/deliveries", "limit=20", nil)
	if err != nil {
		c.internal(w, r.Request, err)
		return
	}
	var dl httpapi.DeliveryList
	if dels.failure() == nil && dels.decode(&dl) == nil {
		data["Deliveries"] = dl.Attempts
	}
	p.Data = data
	if r.URL.Query().Get("saved") != "" {
		p.Notice = p.T("schedule.saved")
	}
	c.render(w, r.Request, "schedule", p, http.StatusOK)
}

// setEnabled pauses or resumes a schedule.
func (c *Console) setEnabled(w http.ResponseWriter, r *request) {
	id := r.PathValue("id")
	res, err := c.call(r, http.MethodPatch, "/export-schedules/"+url.PathEscape(id), "",
		map[string]any{"enabled": r.PostFormValue("enabled") == "true"})
	if err != nil {
		c.internal(w, r.Request, err)
		return
	}
	if f := res.failure(); f != nil {
		p := c.authedPage(r, "schedules")
		p.Title, p.Error = p.T("schedule.title"), f.Message
		c.render(w, r.Request, "schedule", p, res.status)
		return
	}
	http.Redirect(w, r.Request, Base+"schedules/"+url.PathEscape(id), http.StatusSeeOther)
}

// runSchedule runs a schedule now and shows the export it made.
func (c *Console) runSchedule(w http.ResponseWriter, r *request) {
	id := r.PathValue("id")
	res, err := c.call(r, http.MethodPost, "/export-schedules/"+url.PathEscape(id)+"/run", "", nil)
	if err != nil {
		c.internal(w, r.Request, err)
		return
	}
	if f := res.failure(); f != nil {
		p := c.authedPage(r, "schedules")
		p.Title, p.Error = p.T("schedule.title"), f.Message
		c.render(w, r.Request, "schedule", p, res.status)
		return
	}
	var st httpapi.ExportStatus
	if err := res.decode(&st); err != nil {
		c.internal(w, r.Request, err)
		return
	}
	http.Redirect(w, r.Request, Base+"exports/"+url.PathEscape(st.ID), http.StatusSeeOther)
}
