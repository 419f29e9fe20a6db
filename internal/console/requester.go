package console

import (
	"net/http"
	"net/url"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/httpapi"
)

// requesterNames names the tenant's keys and schedules by requested_by
// value ("key:<id>", "schedule:<id>").
type requesterNames map[string]string

// requesters fills d.Requesters, the archive's requested_by choices: the
// tenant's API keys (or only the session's own, when its key may not list
// keys) and its schedules, with what the API lets this key see. A value
// from the address that is none of them stays selectable, so a shared
// link keeps its filter.
func (c *Console) requesters(r *request, p *page, d *archivesData) (requesterNames, error) {
	names := requesterNames{}
	own := "key:" + r.key.ID
	d.Requesters = append(d.Requesters, option{Value: own, Label: p.T("requester.this_key", r.key.Name)})
	names[own] = r.key.Name
	res, err := c.call(r, http.MethodGet, "/api-keys", "", nil)
	if err != nil {
		return nil, err
	}
	var keys httpapi.APIKeyList
	if res.failure() == nil && res.decode(&keys) == nil {
		for _, k := range keys.Keys {
			v := "key:" + k.ID
			names[v] = k.Name
			if v != own {
				d.Requesters = append(d.Requesters, option{Value: v, Label: p.T("requester.key", k.Name+" ("+k.ID+")")})
			}
		}
	}
	res, err = c.call(r, http.MethodGet, "/export-schedules", url.Values{"limit": {"100"}}.Encode(), nil)
	if err != nil {
		return nil, err
	}
	var scheds httpapi.ScheduleList
	if res.failure() == nil && res.decode(&scheds) == nil {
		for _, s := range scheds.Schedules {
			v := "schedule:" + s.ID
			names[v] = s.Name
			d.Requesters = append(d.Requesters, option{Value: v, Label: p.T("requester.schedule", s.Name)})
		}
	}
	if d.RequestedBy != "" {
		if _, ok := names[d.RequestedBy]; !ok {
			d.Requesters = append(d.Requesters, option{Value: d.RequestedBy, Label: d.RequestedBy})
		}
	}
	return names, nil
}

// requesterWords says who asked for an export: the key by its name then
// (as the export recorded it), or the schedule by its name now.
func requesterWords(p *page, rq *audit.Requester, names requesterNames) string {
	switch {
	case rq == nil:
		return "—"
	case rq.ScheduleID != "":
		return p.T("requester.schedule", orDefault(names["schedule:"+rq.ScheduleID], rq.ScheduleID))
	case rq.KeyName != "":
		return p.T("requester.key", rq.KeyName)
	}
	return p.T("requester.key", orDefault(names["key:"+rq.KeyID], rq.KeyID))
}
