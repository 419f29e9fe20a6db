package manifest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// RunStatus is the verdict on one run of a chain.
type RunStatus string

// Run verdicts, from worst to best (a run with several faults gets the
// worst).
const (
	// RunAltered: the manifest's signature does not verify, its file does
	// not match it, or the next run states another digest for it.
	RunAltered RunStatus = "altered"
	// RunMissing: no manifest for this number (a hole), or a run that
	// names a predecessor without its digest (it failed or was deleted),
	// or a file that is not there when the others are.
	RunMissing RunStatus = "missing"
	// RunOutOfOrder: the run's link names another manifest than the one
	// numbered before it, or its window or position goes backwards.
	RunOutOfOrder RunStatus = "out_of_order"
	// RunGap: the window does not start one microsecond after the
	// previous one ended (a gap, or an overlap).
	RunGap RunStatus = "gap"
	RunOK  RunStatus = "ok"
)

func (s RunStatus) rank() int {
	return slices.Index([]RunStatus{RunAltered, RunMissing, RunOutOfOrder, RunGap, RunOK}, s)
}

// ChainEntry is one manifest found for a chain, with the check of its file
// when the file was found beside it.
type ChainEntry struct {
	// Source names where the manifest came from (a path, an export id).
	Source   string
	Manifest Manifest
	// File is the result of VerifyFile on the run's file; nil when the
	// file was not found.
	File *Report
	// FileName is the file checked, for the report.
	FileName string
}

// RunReport is the verdict on one run.
type RunReport struct {
	Seq         int64      `json:"seq"`
	ExportID    string     `json:"export_id,omitempty"`
	Source      string     `json:"source,omitempty"`
	WindowStart *time.Time `json:"window_start,omitempty"`
	WindowEnd   *time.Time `json:"window_end,omitempty"`
	LateCount   int64      `json:"late_count"`
	RowCount    int64      `json:"row_count"`
	// File is the file checked beside the manifest, "" when none.
	File     string    `json:"file,omitempty"`
	Status   RunStatus `json:"status"`
	Problems []string  `json:"problems,omitempty"`
}

func (r *RunReport) fault(s RunStatus, format string, args ...any) {
	if s.rank() < r.Status.rank() {
		r.Status = s
	}
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// ChainReport is the verdict on a schedule's chain.
type ChainReport struct {
	ScheduleID string      `json:"schedule_id"`
	Runs       []RunReport `json:"runs"`
	// Skipped are manifests that are not links of a chain (on-demand
	// exports, a schedule's "run now" exports, runs made before chains).
	Skipped []string `json:"skipped,omitempty"`
	// Problems are faults of the set as a whole (manifests of several
	// schedules, two different manifests for one number).
	Problems []string `json:"problems,omitempty"`
}

// OK reports whether every run is ok and the set has no fault.
func (r ChainReport) OK() bool {
	if len(r.Problems) > 0 || len(r.Runs) == 0 {
		return false
	}
	for _, run := range r.Runs {
		if run.Status != RunOK {
			return false
		}
	}
	return true
}

// VerifyChain checks the manifests of one schedule's runs against each
// other: each signature (with keys; none means none is checked, which is a
// fault), each file found, and each link — numbers without holes from
// from (1: the chain's beginning), each run naming the run numbered before
// it and the SHA-256 of its manifest, windows contiguous to the
// microsecond, positions growing. The last run has nothing after it to
// vouch for it: a chain proves what it holds up to its newest link, not
// that no newer run exists.
func VerifyChain(entries []ChainEntry, keys PublicKeys, from int64) ChainReport {
	var rep ChainReport
	from = max(from, 1)
	bySeq := map[int64]ChainEntry{}
	for _, e := range entries {
		c := e.Manifest.Chain
		if c == nil {
			rep.Skipped = append(rep.Skipped, e.Source)
			continue
		}
		if rep.ScheduleID == "" {
			rep.ScheduleID = c.ScheduleID
		} else if c.ScheduleID != rep.ScheduleID {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s is a run of schedule %s, not %s", e.Source, c.ScheduleID, rep.ScheduleID))
			continue
		}
		if c.Seq < from {
			continue
		}
		if o, dup := bySeq[c.Seq]; dup {
			same := o.Manifest.Signature == e.Manifest.Signature && o.Manifest.ExportID == e.Manifest.ExportID
			if !same {
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s and %s both claim run %d", o.Source, e.Source, c.Seq))
			}
			if o.File != nil {
				continue
			}
		}
		bySeq[c.Seq] = e
	}
	if len(bySeq) == 0 {
		rep.Problems = append(rep.Problems, "no manifest of a scheduled run's chain was found")
		return rep
	}
	seqs := make([]int64, 0, len(bySeq))
	anyFile := false
	for s, e := range bySeq {
		seqs = append(seqs, s)
		anyFile = anyFile || e.File != nil
	}
	slices.Sort(seqs)
	last := seqs[len(seqs)-1]
	digests := map[int64]string{}
	for seq := from; seq <= last; seq++ {
		e, ok := bySeq[seq]
		run := RunReport{Seq: seq, Status: RunOK}
		if !ok {
			run.Status = RunMissing
			run.Problems = []string{"no manifest for this run"}
			if next, ok := bySeq[seq+1]; ok && next.Manifest.Chain.PrevExportID != "" {
				run.ExportID = next.Manifest.Chain.PrevExportID
				if next.Manifest.Chain.PrevManifestSHA256 == "" {
					run.Problems = append(run.Problems, "the next run names it without a digest: it failed or was deleted")
				}
			}
			rep.Runs = append(rep.Runs, run)
			continue
		}
		m := e.Manifest
		c := m.Chain
		ws, we := c.WindowStart, c.WindowEnd
		run.ExportID, run.Source, run.WindowStart, run.WindowEnd = m.ExportID, e.Source, &ws, &we
		run.LateCount, run.RowCount, run.File = c.LateCount, m.RowCount, e.FileName
		checkSignature(&run, m, keys)
		if d, err := Digest(m); err == nil {
			digests[seq] = d
		}
		switch {
		case e.File != nil && (!e.File.SizeOK() || !e.File.DigestOK()):
			run.fault(RunAltered, "the file %s is not the file the manifest describes (size %d, want %d; sha256 %s)",
				e.FileName, e.File.ActualSize, e.File.ExpectedSize, e.File.ActualSHA256)
		case e.File == nil && anyFile:
			run.fault(RunMissing, "its file is not beside the manifest")
		}
		if m.RangeStart == nil || m.RangeEnd == nil || !m.RangeStart.Equal(ws) || !m.RangeEnd.Equal(we) {
			run.fault(RunAltered, "the chain's window is not the manifest's range")
		}
		if m.AsOfPosition != c.Position {
			run.fault(RunAltered, "the chain's position %d is not the manifest's as_of_position %d", c.Position, m.AsOfPosition)
		}
		checkLink(&run, e, bySeq, digests, seq, from)
		rep.Runs = append(rep.Runs, run)
	}
	return rep
}

func checkSignature(run *RunReport, m Manifest, keys PublicKeys) {
	if len(keys) == 0 {
		run.fault(RunAltered, "signature not checked: no public key given")
		return
	}
	switch err := Verify(m, keys); {
	case err == nil:
	case errors.Is(err, ErrUnknownKey):
		run.fault(RunAltered, "signed by key %q, which is none of the keys given", m.KeyID)
	default:
		run.fault(RunAltered, "signature: %v", err)
	}
}

// checkLink checks run seq's link to run seq-1.
func checkLink(run *RunReport, e ChainEntry, bySeq map[int64]ChainEntry, digests map[int64]string, seq, from int64) {
	c := e.Manifest.Chain
	if seq == 1 {
		if c.PrevExportID != "" || c.PrevManifestSHA256 != "" {
			run.fault(RunOutOfOrder, "run 1 names a predecessor (%s)", c.PrevExportID)
		}
		if !c.LateFloor.Equal(c.WindowStart) {
			run.fault(RunOutOfOrder, "run 1's late floor %s is not its window start", stamp(c.LateFloor))
		}
		return
	}
	if c.PrevExportID == "" {
		run.fault(RunOutOfOrder, "run %d names no predecessor", seq)
	}
	prev, ok := bySeq[seq-1]
	if !ok {
		if seq > from && c.PrevManifestSHA256 == "" {
			run.fault(RunMissing, "its predecessor %s has no manifest (it failed or was deleted)", c.PrevExportID)
		}
		return
	}
	p := prev.Manifest
	pc := p.Chain
	if c.PrevExportID != p.ExportID {
		run.fault(RunOutOfOrder, "its predecessor is %s, but run %d is %s", c.PrevExportID, seq-1, p.ExportID)
	} else if c.PrevManifestSHA256 == "" {
		run.fault(RunMissing, "it names its predecessor %s without a digest: that run had failed or was deleted when this manifest was made", c.PrevExportID)
	} else if d := digests[seq-1]; !strings.EqualFold(d, c.PrevManifestSHA256) {
		run.fault(RunAltered, "it states the digest %s for run %d's manifest, which has %s", c.PrevManifestSHA256, seq-1, d)
	}
	if !c.LateFloor.Equal(pc.LateFloor) {
		run.fault(RunOutOfOrder, "its late floor %s is not run %d's %s: another chain", stamp(c.LateFloor), seq-1, stamp(pc.LateFloor))
	}
	if c.PrevPosition != pc.Position || c.Position < pc.Position {
		run.fault(RunOutOfOrder, "its positions (previous %d, own %d) do not follow run %d's %d", c.PrevPosition, c.Position, seq-1, pc.Position)
	}
	want := pc.WindowEnd.Add(audit.TimePrecision)
	switch {
	case !c.WindowStart.After(pc.WindowStart):
		run.fault(RunOutOfOrder, "its window starts at %s, not after run %d's (%s)", stamp(c.WindowStart), seq-1, stamp(pc.WindowStart))
	case c.WindowStart.After(want):
		run.fault(RunGap, "gap: its window starts at %s, run %d's ended at %s", stamp(c.WindowStart), seq-1, stamp(pc.WindowEnd))
	case c.WindowStart.Before(want):
		run.fault(RunGap, "overlap: its window starts at %s, before run %d's ended (%s)", stamp(c.WindowStart), seq-1, stamp(pc.WindowEnd))
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// String is the report for people: a table of runs, their problems below
// each, then the verdict.
func (r ChainReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "schedule %s\n", r.ScheduleID)
	fmt.Fprintf(&b, "%5s  %-12s  %-36s  %-27s  %-27s  %8s  %6s\n", "SEQ", "STATUS", "EXPORT", "WINDOW START", "WINDOW END", "ROWS", "LATE")
	for _, run := range r.Runs {
		ws, we := "-", "-"
		if run.WindowStart != nil {
			ws, we = stamp(*run.WindowStart), stamp(*run.WindowEnd)
		}
		rows, late := "-", "-"
		if run.Source != "" {
			rows, late = fmt.Sprint(run.RowCount), fmt.Sprint(run.LateCount)
		}
		fmt.Fprintf(&b, "%5d  %-12s  %-36s  %-27s  %-27s  %8s  %6s\n", run.Seq, strings.ToUpper(string(run.Status)),
			cmp.Or(run.ExportID, "?"), ws, we, rows, late)
		for _, p := range run.Problems {
			fmt.Fprintf(&b, "       %s\n", p)
		}
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(&b, "skipped %s: not a link of a schedule's chain\n", s)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "FAULT: %s\n", p)
	}
	if r.OK() {
		fmt.Fprintf(&b, "VERIFIED: %d runs, signed, linked and contiguous", len(r.Runs))
		if n := len(r.Runs); n > 0 {
			fmt.Fprintf(&b, " (run %d is the newest: nothing after it vouches for it yet)", r.Runs[n-1].Seq)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("FAILED: the chain has faults (above)\n")
	}
	return b.String()
}
