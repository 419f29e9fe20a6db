package demo

import (
	"math/rand/v2"
	"strings"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// Pool sizes. Objects (assessments, tasks…) belong to entities, so every
// event about an object also names its entity, and filtering on one entity
// finds a handful of events (about 20 per entity in 100,000).
const (
	nUsers       = 36
	nEntities    = 4_000
	nAssessments = 6_000
	nTasks       = 8_000
	nWorkflows   = 3_000
	nScreenings  = 3_000
	nMatches     = 6_000
	nInquiries   = 1_500
	nConfigs     = 12
	nCaches      = 200
	nAPIKeys     = 40
)

type user struct{ id, name string }

type entity struct{ id, name string }

// object is an assessment, task, workflow instance… of an entity.
type object struct {
	id     string
	entity int
	parent int // the screening of a match, the assessment of a task; -1 if none
}

// world is the population the events talk about.
type world struct {
	users       []user
	entities    []entity
	assessments []object
	tasks       []object
	workflows   []object
	screenings  []object
	matches     []object
	inquiries   []object
	configs     []string
	caches      []string
	apiKeys     []string
	ips         []string
	kinds       []kind
	kindCum     []int
}

func newWorld(rng *rand.Rand) world {
	w := world{users: make([]user, nUsers), entities: make([]entity, nEntities)}
	for i := range w.users {
		w.users[i] = user{id: newUUID(rng), name: userNames[i%len(userNames)]}
	}
	for i := range w.entities {
		w.entities[i] = entity{
			id:   newUUID(rng),
			name: entityStems[rng.IntN(len(entityStems))] + " " + entitySuffixes[rng.IntN(len(entitySuffixes))],
		}
	}
	w.entities[0] = entity{id: DemoEntityID, name: "Globex Holdings Ltd"}
	objects := func(n int) []object {
		out := make([]object, n)
		for i := range out {
			// Object 0 of every pool belongs to the demo entity, and only
			// it: the demo entity's share of events is then set by
			// demoShare alone.
			out[i] = object{id: newUUID(rng), entity: 1 + rng.IntN(nEntities-1), parent: -1}
		}
		out[0].entity = 0
		return out
	}
	// children returns n objects under parents, each of its parent's
	// entity; child 0 is under parent 0 (the demo entity's).
	children := func(n int, parents []object) []object {
		out := objects(n)
		for i := range out {
			p := 1 + rng.IntN(len(parents)-1)
			if i == 0 {
				p = 0
			}
			out[i].parent, out[i].entity = p, parents[p].entity
		}
		return out
	}
	w.assessments = objects(nAssessments)
	w.tasks = children(nTasks, w.assessments)
	w.workflows = objects(nWorkflows)
	w.screenings = objects(nScreenings)
	w.matches = children(nMatches, w.screenings)
	w.inquiries = objects(nInquiries)
	w.configs = make([]string, nConfigs)
	for i := range w.configs {
		w.configs[i] = newUUID(rng)
	}
	w.caches = make([]string, nCaches)
	for i := range w.caches {
		w.caches[i] = "cache_" + newUUID(rng)[:8]
	}
	w.apiKeys = make([]string, nAPIKeys)
	for i := range w.apiKeys {
		w.apiKeys[i] = "sk_live_" + newUUID(rng)[:6]
	}
	w.ips = make([]string, 64)
	for i := range w.ips {
		w.ips[i] = itoa(10+rng.IntN(180)) + "." + itoa(rng.IntN(256)) + "." + itoa(rng.IntN(256)) + "." + itoa(1+rng.IntN(254))
	}
	w.kinds = kinds()
	w.kindCum = make([]int, len(w.kinds))
	total := 0
	for i, k := range w.kinds {
		total += k.weight
		w.kindCum[i] = total
	}
	return w
}

// kind is one event type: its source, sub types and how to describe it.
type kind struct {
	eventType string
	source    string
	weight    int
	subs      []string
	subCum    []int
	// system is the share of events (per mille) with no auditee.
	system int
	fill   func(g *Generator, w *world, e *audit.Event, actor *user, sub string)
}

func sub(pairs ...any) ([]string, []int) {
	var names []string
	var cum []int
	total := 0
	for i := 0; i < len(pairs); i += 2 {
		names = append(names, pairs[i].(string))
		total += pairs[i+1].(int)
		cum = append(cum, total)
	}
	return names, cum
}

func k(eventType, source string, weight, system int, fill func(*Generator, *world, *audit.Event, *user, string), subs ...any) kind {
	names, cum := sub(subs...)
	return kind{eventType: eventType, source: source, weight: weight, subs: names, subCum: cum, system: system, fill: fill}
}

func kinds() []kind {
	return []kind{
		k("assessment", "assessment_service", 20, 40, fillAssessment,
			"created", 15, "updated", 25, "assigned", 10, "viewed", 20, "completed", 10,
			"approved", 8, "rejected", 4, "deleted", 2, "exported", 3),
		k("task", "task_platform", 18, 150, fillTask,
			"created", 20, "assigned", 20, "updated", 20, "completed", 25, "viewed", 10, "deleted", 5),
		k("workflow", "workflow_engine", 13, 700, fillWorkflow,
			"created", 15, "updated", 50, "completed", 15, "approved", 8, "rejected", 4),
		k("screening", "screening_service", 10, 600, fillScreening,
			"created", 25, "updated", 20, "completed", 35, "viewed", 20),
		k("match", "screening_service", 9, 300, fillMatch,
			"created", 35, "assigned", 15, "approved", 15, "rejected", 25, "viewed", 10),
		k("entity", "entity_service", 10, 50, fillEntity,
			"created", 10, "updated", 40, "viewed", 40, "deleted", 2, "exported", 8),
		k("inquiry", "inquiry_service", 5, 100, fillInquiry,
			"created", 30, "updated", 20, "assigned", 15, "completed", 25, "viewed", 10),
		k("user", "identity_service", 9, 0, fillUser,
			"login", 80, "created", 6, "updated", 10, "deleted", 4),
		k("api_key", "api_gateway", 2, 0, fillAPIKey,
			"created", 45, "deleted", 35, "viewed", 20),
		k("export", "report_service", 3, 100, fillExport,
			"created", 35, "completed", 30, "exported", 35),
	}
}

// fill makes e a random event of a random kind.
func (w *world) fill(g *Generator, e *audit.Event) {
	kd := &w.kinds[pick(g.rng, w.kindCum)]
	s := kd.subs[pick(g.rng, kd.subCum)]
	e.EventType, e.SubType, e.SystemSource = kd.eventType, s, kd.source
	var actor *user
	if g.rng.IntN(1000) >= kd.system {
		actor = &w.users[g.rng.IntN(len(w.users))]
		e.AuditeeID = actor.id
		if kd.eventType != "user" && g.rng.IntN(10) == 0 {
			e.Metadata["ip"] = w.ips[g.rng.IntN(len(w.ips))]
		}
	}
	kd.fill(g, w, e, actor, s)
}

// entityCreated makes e the creation of entity i.
func (w *world) entityCreated(g *Generator, e *audit.Event, i int) {
	actor := &w.users[0]
	e.EventType, e.SubType, e.SystemSource, e.AuditeeID = "entity", "created", "entity_service", actor.id
	e.Metadata["entity_id"] = w.entities[i].id
	e.Metadata["tag"] = "onboarding"
	e.Description = actor.name + " created entity " + w.entities[i].name
}

// choose returns an object of pool, the demo entity's (index 0) with
// probability demoShare.
func choose(g *Generator, pool []object) *object {
	if g.rng.Float64() < demoShare {
		return &pool[0]
	}
	return &pool[1+g.rng.IntN(len(pool)-1)]
}

// who names the actor, or the system.
func who(actor *user, system string) string {
	if actor == nil {
		return system
	}
	return actor.name
}

var pastTense = map[string]string{
	"created": "created", "updated": "updated", "assigned": "assigned", "viewed": "viewed",
	"completed": "completed", "approved": "approved", "rejected": "rejected", "deleted": "deleted",
	"exported": "exported", "login": "signed in to",
}

func short(id string) string { return id[:8] }

func (w *world) ent(e *audit.Event, i int) *entity {
	en := &w.entities[i]
	e.Metadata["entity_id"] = en.id
	return en
}

func note(g *Generator, sub string) string {
	if (sub == "approved" || sub == "rejected") && g.rng.IntN(4) == 0 {
		return notes[g.rng.IntN(len(notes))]
	}
	if g.rng.IntN(200) == 0 {
		return notes[g.rng.IntN(len(notes))]
	}
	return ""
}

func fillAssessment(g *Generator, w *world, e *audit.Event, actor *user, sub string) {
	a := choose(g, w.assessments)
	en := w.ent(e, a.entity)
	e.Metadata["assessment_id"] = a.id
	if g.rng.IntN(5) == 0 {
		e.Metadata["workflow_instance_id"] = w.workflows[1+g.rng.IntN(nWorkflows-1)].id
	}
	if g.rng.IntN(10) == 0 {
		e.Metadata["tag"] = tags[g.rng.IntN(len(tags))]
	}
	var b strings.Builder
	b.WriteString(who(actor, "Assessment service"))
	b.WriteByte(' ')
	b.WriteString(pastTense[sub])
	b.WriteString(" assessment ")
	b.WriteString(short(a.id))
	if sub == "assigned" {
		b.WriteString(" to ")
		b.WriteString(w.users[g.rng.IntN(len(w.users))].name)
	}
	b.WriteString(" for ")
	b.WriteString(en.name)
	b.WriteString(note(g, sub))
	e.Description = b.String()
}

func fillTask(g *Generator, w *world, e *audit.Event, actor *user, sub string) {
	t := choose(g, w.tasks)
	en := w.ent(e, t.entity)
	e.Metadata["task_id"] = t.id
	if g.rng.IntN(2) == 0 {
		e.Metadata["assessment_id"] = w.assessments[t.parent].id
	}
	e.Description = who(actor, "Task platform") + " " + pastTense[sub] + " task " + short(t.id) +
		" (" + taskTitles[g.rng.IntN(len(taskTitles))] + ") for " + en.name
}

var taskTitles = []string{
	"Collect proof of address", "Review ownership structure", "Verify director identity",
	"Request source of funds", "Periodic review", "Résumé des risques", "Проверка документов",
}

func fillWorkflow(g *Generator, w *world, e *audit.Event, actor *user, sub string) {
	wf := choose(g, w.workflows)
	en := w.ent(e, wf.entity)
	step := workflowSteps[g.rng.IntN(len(workflowSteps))]
	e.Metadata["workflow_instance_id"] = wf.id
	e.Metadata["workflow_step"] = step
	switch sub {
	case "created":
		e.Description = who(actor, "Workflow engine") + " started onboarding workflow " + short(wf.id) + " for " + en.name
	case "updated":
		e.Description = who(actor, "Workflow engine") + " moved workflow " + short(wf.id) + " to step " + step
	default:
		e.Description = who(actor, "Workflow engine") + " " + pastTense[sub] + " workflow " + short(wf.id) + " at step " + step + note(g, sub)
	}
}

func fillScreening(g *Generator, w *world, e *audit.Event, actor *user, sub string) {
	s := choose(g, w.screenings)
	en := w.ent(e, s.entity)
	e.Metadata["screening_application_id"] = s.id
	e.Metadata["screening_config_id"] = w.configs[g.rng.IntN(nConfigs)]
	if g.rng.IntN(10) < 3 {
		e.Metadata["cache_id"] = w.caches[g.rng.IntN(nCaches)]
	}
	e.Description = who(actor, "Screening service") + " " + pastTense[sub] + " screening " + short(s.id) + " of " + en.name
	if sub == "completed" {
		e.Description += ": " + itoa(g.rng.IntN(6)) + " potential matches"
	}
}

func fillMatch(g *Generator, w *world, e *audit.Event, actor *user, sub string) {
	m := choose(g, w.matches)
	en := w.ent(e, m.entity)
	e.Metadata["match_id"] = m.id
	e.Metadata["screening_application_id"] = w.screenings[m.parent].id
	switch sub {
	case "approved":
		e.Description = who(actor, "Screening service") + " confirmed match " + short(m.id) + " for " + en.name + note(g, sub)
	case "rejected":
		e.Description = who(actor, "Screening service") + " dismissed match " + short(m.id) + " for " + en.name + " as a false positive"
	default:
		e.Description = who(actor, "Screening service") + " " + pastTense[sub] + " match " + short(m.id) + " for " + en.name
	}
}

func fillEntity(g *Generator, w *world, e *audit.Event, actor *user, sub string) {
	i := 1 + g.rng.IntN(nEntities-1)
	if g.rng.Float64() < demoShare {
		i = 0
	}
	en := w.ent(e, i)
	if g.rng.IntN(5) < 2 {
		e.Metadata["tag"] = tags[g.rng.IntN(len(tags))]
	}
	e.Description = who(actor, "Entity service") + " " + pastTense[sub] + " entity " + en.name
}

func fillInquiry(g *Generator, w *world, e *audit.Event, actor *user, sub string) {
	q := choose(g, w.inquiries)
	en := w.ent(e, q.entity)
	e.Metadata["inquiry_id"] = q.id
	e.Description = who(actor, "Inquiry service") + " " + pastTense[sub] + " inquiry " + short(q.id) + " about " + en.name
}

func fillUser(g *Generator, w *world, e *audit.Event, actor *user, sub string) {
	e.Metadata["ip"] = w.ips[g.rng.IntN(len(w.ips))]
	e.Metadata["user_agent"] = userAgents[g.rng.IntN(len(userAgents))]
	if sub == "login" {
		e.Description = actor.name + " signed in"
		return
	}
	target := &w.users[g.rng.IntN(len(w.users))]
	e.Metadata["target_user_id"] = target.id
	e.Description = actor.name + " " + pastTense[sub] + " user " + target.name
}

func fillAPIKey(g *Generator, w *world, e *audit.Event, actor *user, sub string) {
	key := w.apiKeys[g.rng.IntN(nAPIKeys)]
	e.Metadata["ip"] = w.ips[g.rng.IntN(len(w.ips))]
	verb := pastTense[sub]
	if sub == "deleted" {
		verb = "revoked"
	}
	e.Description = actor.name + " " + verb + " API key " + key + "…"
}

func fillExport(g *Generator, w *world, e *audit.Event, actor *user, sub string) {
	format := "CSV"
	if g.rng.IntN(4) == 0 {
		format = "PDF"
	}
	what := "audit events"
	if g.rng.IntN(10) < 3 {
		en := w.ent(e, choose(g, w.assessments).entity)
		what = "audit events of " + en.name
	}
	e.Metadata["tag"] = "audit_export"
	switch sub {
	case "created":
		e.Description = who(actor, "Scheduler") + " requested a " + format + " export of " + what
	case "completed":
		e.Description = "Export of " + what + " completed: " + itoa(10+g.rng.IntN(50_000)) + " rows in " + format
	default:
		e.Description = who(actor, "Scheduler") + " downloaded a " + format + " export of " + what
	}
}
