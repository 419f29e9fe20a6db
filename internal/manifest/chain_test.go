package manifest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/manifest"
)

// chainOf returns n signed manifests of one schedule's runs, linked and
// contiguous, hour-long windows from 2026-04-01.
func chainOf(t *testing.T, n int) []manifest.Manifest {
	t.Helper()
	floor := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	var out []manifest.Manifest
	prevDigest, prevID, prevPos := "", "", int64(0)
	for i := range n {
		e := exportOf(t)
		e.ID = fmt.Sprintf("run-%d", i+1)
		start, end := floor.Add(time.Duration(i)*time.Hour), floor.Add(time.Duration(i+1)*time.Hour-time.Microsecond)
		e.Params.Filter.RangeStart, e.Params.Filter.RangeEnd = &start, &end
		m, err := manifest.New(e, "1.2.3")
		if err != nil {
			t.Fatal(err)
		}
		pos := int64(100 * (i + 1))
		m.AsOfPosition = pos
		m.Chain = &manifest.Chain{ScheduleID: "sched", Seq: int64(i + 1), WindowStart: start, WindowEnd: end,
			LateFloor: floor, Position: pos, PrevPosition: prevPos, PrevExportID: prevID, PrevManifestSHA256: prevDigest}
		out = append(out, sign(t, m))
		if prevDigest, err = manifest.Digest(out[i]); err != nil {
			t.Fatal(err)
		}
		prevID, prevPos = e.ID, pos
	}
	return out
}

func sign(t *testing.T, m manifest.Manifest) manifest.Manifest {
	t.Helper()
	m.Signature = ""
	m, err := signer(t).Sign(m)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func entries(ms ...manifest.Manifest) []manifest.ChainEntry {
	var out []manifest.ChainEntry
	for _, m := range ms {
		out = append(out, manifest.ChainEntry{Source: m.ExportID + ".json", Manifest: m})
	}
	return out
}

func keysOf(t *testing.T) manifest.PublicKeys {
	keys := manifest.PublicKeys{}
	keys.Add(signer(t).PublicKey())
	return keys
}

// statuses is the report's verdicts as "seq:status" in order.
func statuses(r manifest.ChainReport) string {
	var s []string
	for _, run := range r.Runs {
		s = append(s, fmt.Sprintf("%d:%s", run.Seq, run.Status))
	}
	return strings.Join(s, " ")
}

func TestVerifyChain(t *testing.T) {
	keys := keysOf(t)
	relink := func(ms []manifest.Manifest, from int) {
		// Re-sign ms[from:] with links to their (changed) predecessors, as
		// a producer that made them so would have.
		for i := from; i < len(ms); i++ {
			if i > 0 {
				d, err := manifest.Digest(ms[i-1])
				if err != nil {
					t.Fatal(err)
				}
				ms[i].Chain.PrevManifestSHA256 = d
			}
			ms[i] = sign(t, ms[i])
		}
	}
	for _, tc := range []struct {
		name  string
		edit  func(ms []manifest.Manifest) []manifest.ChainEntry
		keys  manifest.PublicKeys
		from  int64
		want  string
		fault string // in some problem
	}{
		{name: "clean", want: "1:ok 2:ok 3:ok 4:ok"},
		{name: "deleted", want: "1:ok 2:missing 3:ok 4:ok", fault: "no manifest",
			edit: func(ms []manifest.Manifest) []manifest.ChainEntry { return entries(ms[0], ms[2], ms[3]) }},
		{name: "first deleted", want: "1:missing 2:ok 3:ok 4:ok", fault: "no manifest",
			edit: func(ms []manifest.Manifest) []manifest.ChainEntry { return entries(ms[1:]...) }},
		{name: "pruned with from", from: 3, want: "3:ok 4:ok",
			edit: func(ms []manifest.Manifest) []manifest.ChainEntry { return entries(ms[2:]...) }},
		{name: "altered field", want: "1:ok 2:altered 3:altered 4:ok", fault: "signature",
			edit: func(ms []manifest.Manifest) []manifest.ChainEntry {
				ms[1].RowCount++
				return entries(ms...)
			}},
		{name: "altered and re-signed", want: "1:ok 2:ok 3:altered 4:ok", fault: "states the digest",
			edit: func(ms []manifest.Manifest) []manifest.ChainEntry {
				ms[1].RowCount++
				ms[1] = sign(t, ms[1])
				return entries(ms...)
			}},
		{name: "seq swapped", want: "1:ok 2:altered 3:altered 4:out_of_order", fault: "signature",
			edit: func(ms []manifest.Manifest) []manifest.ChainEntry {
				ms[1].Chain.Seq, ms[2].Chain.Seq = 3, 2
				return entries(ms...)
			}},
		{name: "seq swapped and re-signed", want: "1:ok 2:out_of_order 3:out_of_order 4:out_of_order", fault: "its predecessor is",
			edit: func(ms []manifest.Manifest) []manifest.ChainEntry {
				ms[1].Chain.Seq, ms[2].Chain.Seq = 3, 2
				ms[1], ms[2] = sign(t, ms[1]), sign(t, ms[2])
				return entries(ms...)
			}},
		{name: "gap", want: "1:ok 2:ok 3:gap 4:ok", fault: "gap:",
			edit: func(ms []manifest.Manifest) []manifest.ChainEntry {
				c := ms[2].Chain
				c.WindowStart = c.WindowStart.Add(time.Minute)
				ms[2].RangeStart = &c.WindowStart
				relink(ms, 2)
				return entries(ms...)
			}},
		{name: "overlap", want: "1:ok 2:ok 3:gap 4:ok", fault: "overlap:",
			edit: func(ms []manifest.Manifest) []manifest.ChainEntry {
				c := ms[2].Chain
				c.WindowStart = c.WindowStart.Add(-time.Minute)
				ms[2].RangeStart = &c.WindowStart
				relink(ms, 2)
				return entries(ms...)
			}},
		{name: "failed predecessor", want: "1:ok 2:missing 3:missing 4:ok", fault: "failed or was deleted",
			edit: func(ms []manifest.Manifest) []manifest.ChainEntry {
				ms[2].Chain.PrevManifestSHA256 = ""
				relink(ms[:3], 2)
				ms[2].Chain.PrevManifestSHA256 = ""
				ms[2] = sign(t, ms[2])
				relink(ms, 3)
				return entries(ms[0], ms[2], ms[3])
			}},
		{name: "no keys", keys: manifest.PublicKeys{}, want: "1:altered 2:altered 3:altered 4:altered", fault: "no public key",
			edit: func(ms []manifest.Manifest) []manifest.ChainEntry { return entries(ms...) }},
		{name: "file altered", want: "1:ok 2:altered 3:ok 4:ok", fault: "not the file",
			edit: func(ms []manifest.Manifest) []manifest.ChainEntry {
				es := entries(ms...)
				for i := range es {
					rep := manifest.Report{ExpectedSize: ms[i].ByteSize, ActualSize: ms[i].ByteSize,
						ExpectedSHA256: ms[i].SHA256, ActualSHA256: ms[i].SHA256}
					if i == 1 {
						rep.ActualSHA256 = strings.Repeat("0", 64)
					}
					es[i].File, es[i].FileName = &rep, ms[i].ExportID+".csv"
				}
				return es
			}},
		{name: "file dropped", want: "1:ok 2:ok 3:missing 4:ok", fault: "not beside",
			edit: func(ms []manifest.Manifest) []manifest.ChainEntry {
				es := entries(ms...)
				for i := range es {
					if i != 2 {
						rep := manifest.Report{ExpectedSize: 1, ActualSize: 1, ExpectedSHA256: "ab", ActualSHA256: "ab"}
						es[i].File = &rep
					}
				}
				return es
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := chainOf(t, 4)
			es := entries(ms...)
			if tc.edit != nil {
				es = tc.edit(ms)
			}
			k := keys
			if tc.keys != nil {
				k = tc.keys
			}
			rep := manifest.VerifyChain(es, k, tc.from)
			if got := statuses(rep); got != tc.want {
				t.Fatalf("runs = %s, want %s\n%s", got, tc.want, rep)
			}
			ok := true
			for _, run := range strings.Fields(tc.want) {
				ok = ok && strings.HasSuffix(run, ":ok")
			}
			if rep.OK() != ok {
				t.Fatalf("OK() = %v\n%s", rep.OK(), rep)
			}
			if tc.fault != "" && !strings.Contains(rep.String(), tc.fault) {
				t.Fatalf("no problem mentions %q:\n%s", tc.fault, rep)
			}
		})
	}
}

func TestVerifyChainSetFaults(t *testing.T) {
	keys := keysOf(t)
	ms := chainOf(t, 3)
	other := chainOf(t, 1)[0]
	other.Chain.ScheduleID = "another"
	other = sign(t, other)
	rep := manifest.VerifyChain(append(entries(ms...), entries(other)...), keys, 1)
	if rep.OK() || !strings.Contains(rep.String(), "schedule another") {
		t.Fatalf("a manifest of another schedule:\n%s", rep)
	}
	twin := ms[1]
	twin.ExportID = "impostor"
	twin = sign(t, twin)
	rep = manifest.VerifyChain(append(entries(ms...), entries(twin)...), keys, 1)
	if rep.OK() || !strings.Contains(rep.String(), "both claim run 2") {
		t.Fatalf("two manifests for one run:\n%s", rep)
	}
	// The same manifest twice (a copy) is not a fault; one outside any
	// chain is skipped.
	plain, _ := signed(t)
	rep = manifest.VerifyChain(append(entries(ms...), entries(ms[1], plain)...), keys, 1)
	if !rep.OK() || len(rep.Skipped) != 1 {
		t.Fatalf("a copy and an unchained manifest:\n%s", rep)
	}
	if rep := manifest.VerifyChain(entries(plain), keys, 1); rep.OK() {
		t.Fatalf("no chain at all verified:\n%s", rep)
	}
}
