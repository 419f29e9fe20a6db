package audit

// Requester is who asked for an export: an API key (its id, and its name at
// the time) or a schedule. It is shown in the export's status, its archive
// entry and its signed manifest.
type Requester struct {
	KeyID      string `json:"key_id,omitempty"`
	KeyName    string `json:"key_name,omitempty"`
	ScheduleID string `json:"schedule_id,omitempty"`
}

// Requester returns who asked for e, or nil for exports made before that
// was recorded. A schedule's run names the schedule.
func (e Export) Requester() *Requester {
	switch {
	case e.ScheduleID != "":
		return &Requester{ScheduleID: e.ScheduleID}
	case e.RequesterKeyID != "":
		return &Requester{KeyID: e.RequesterKeyID, KeyName: e.RequesterKeyName}
	}
	return nil
}
