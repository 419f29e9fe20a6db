package i18n

import "golang.org/x/text/language"

var localeEN = locale{
	code:   "en",
	tag:    language.English,
	paper:  "A4",
	months: [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	texts: map[string]string{
		"format.datetime": "{d} {MMM} {yyyy}, {HH}:{mm}:{ss} {zone}",

		// Columns of the CSV and the PDF table; also the names of filters.
		"field.event_id":                          "Event ID",
		"field.occurred_at":                       "Occurred at",
		"field.event_type":                        "Event type",
		"field.sub_type":                          "Sub type",
		"field.system_source":                     "System source",
		"field.auditee_id":                        "Auditee ID",
		"field.description":                       "Description",
		"field.metadata":                          "Metadata",
		"field.metadata.entity_id":                "Entity ID",
		"field.metadata.assessment_id":            "Assessment ID",
		"field.metadata.task_id":                  "Task ID",
		"field.metadata.workflow_instance_id":     "Workflow instance ID",
		"field.metadata.screening_application_id": "Screening application ID",
		"field.metadata.screening_config_id":      "Screening config ID",
		"field.metadata.match_id":                 "Match ID",
		"field.metadata.inquiry_id":               "Inquiry ID",
		"field.metadata.tag":                      "Tag",
		"field.metadata.cache_id":                 "Cache ID",
		"field.metadata.workflow_step":            "Workflow step",
		"field.other_metadata":                    "Other metadata",

		// The PDF report.
		"report.title":          "Audit event report",
		"report.tenant":         "Tenant",
		"report.export_id":      "Export ID",
		"report.filters":        "Filters",
		"report.filters.none":   "All events (no filters applied)",
		"report.time_range":     "Time range",
		"report.range.all_time": "All time",
		"report.range.between":  "From %s to %s",
		"report.range.since":    "Since %s",
		"report.range.until":    "Until %s",
		"report.generated_at":   "Generated at",
		"report.as_of":          "As of",
		"report.as_of_position": "ingest position %d",
		"report.time_zone":      "Time zone",
		"report.events":         "Events",
		"report.no_events":      "No events match the filters.",
		"report.page":           "Page %s of %s",
		"report.label_value":    "%s: %s",
		"report.or":             "or",
		"report.row_number":     "No.",
		"report.system_actor":   "System",
		"report.continued":      "(continued)",
	},
	plurals: map[string]Plural{
		"report.event_count": {One: "%d event", Other: "%d events"},
	},
}
