package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPU accounting of one export (bench/run.sh's kind "cpu" records for (a)):
// the user and system time each server process used from just before the
// GET to the last byte, read from /proc/PID/stat, plus exportbench's own
// (getrusage). Sampling here rather than in run.sh keeps the window the
// measured one: run.sh could only sample after exportbench exits, that is
// after its file check.

// cpuProc is one process of -cpu.
type cpuProc struct {
	name string
	pid  int  // 0: unknown (recorded as "unknown")
	tree bool // also its live children (a postmaster and its backends)
}

// ticks is user and system time in clock ticks.
type ticks struct{ user, sys int64 }

// parseCPUProcs parses -cpu: NAME=PID, NAME=tree:PID or NAME=unknown,
// comma-separated.
func parseCPUProcs(s string) ([]cpuProc, error) {
	var out []cpuProc
	for _, f := range strings.Split(s, ",") {
		name, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("-cpu: %q is not NAME=PID", f)
		}
		p := cpuProc{name: name}
		if v != "unknown" {
			v, p.tree = strings.CutPrefix(v, "tree:")
			pid, err := strconv.Atoi(v)
			if err != nil || pid <= 0 {
				return nil, fmt.Errorf("-cpu: %q: bad PID", f)
			}
			p.pid = pid
		}
		out = append(out, p)
	}
	return out, nil
}

// procStat returns fields 3… of /proc/PID/stat, so field N is [N-3]
// (4 ppid, 14 utime, 15 stime, 16 cutime, 17 cstime).
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	// Field 2, comm, is in parentheses and may hold spaces and ")".
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/%d/stat: no comm", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return nil, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	return f, nil
}

func statInt(f []string, field int) int64 {
	n, _ := strconv.ParseInt(f[field-3], 10, 64)
	return n
}

// sample returns p's ticks: its own and those of the children it has
// waited for (cutime, cstime) and, for a tree, its live children's. A
// child reaped during the walk would count nowhere: then cutime/cstime
// have changed, and the walk is made again.
func (p cpuProc) sample() (ticks, error) {
	for try := 0; ; try++ {
		f, err := procStat(p.pid)
		if err != nil {
			return ticks{}, err
		}
		t := ticks{statInt(f, 14) + statInt(f, 16), statInt(f, 15) + statInt(f, 17)}
		if !p.tree {
			return t, nil
		}
		reaped := [2]int64{statInt(f, 16), statInt(f, 17)}
		ents, err := os.ReadDir("/proc")
		if err != nil {
			return ticks{}, err
		}
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == p.pid {
				continue
			}
			f, err := procStat(pid)
			if err != nil || statInt(f, 4) != int64(p.pid) {
				continue // gone meanwhile, or not a child
			}
			t.user += statInt(f, 14)
			t.sys += statInt(f, 15)
		}
		if f, err = procStat(p.pid); err != nil {
			return ticks{}, err
		}
		if try == 4 || reaped == [2]int64{statInt(f, 16), statInt(f, 17)} {
			return t, nil
		}
	}
}

// cpuAccount samples a set of processes before and after a run.
type cpuAccount struct {
	procs        []cpuProc
	clkTck       int64
	t0           time.Time
	before       []*ticks // nil: unknown
	selfU, selfS float64  // exportbench's own, ms, at start
}

func (a *cpuAccount) sampleAll() []*ticks {
	out := make([]*ticks, len(a.procs))
	for i, p := range a.procs {
		if p.pid == 0 {
			continue
		}
		if t, err := p.sample(); err == nil {
			out[i] = &t
		} else {
			fmt.Fprintf(os.Stderr, "exportbench: cpu %s: %v\n", p.name, err)
		}
	}
	return out
}

// start samples every process (just before the GET), then exportbench's
// own time, so that sampling is not counted as its own.
func (a *cpuAccount) start() error {
	if len(a.procs) > 0 {
		a.before = a.sampleAll()
	}
	a.t0 = time.Now()
	var err error
	a.selfU, a.selfS, err = cpuSelf()
	return err
}

// stop takes exportbench's own time, then samples every process again
// (just after the last byte); it returns exportbench's CPU ms since start
// and the kind "cpu" record of the run (nil without processes).
func (a *cpuAccount) stop(name string, run int) (userMs, sysMs float64, rec []byte, err error) {
	u, s, err := cpuSelf()
	if err != nil {
		return 0, 0, nil, err
	}
	userMs, sysMs = u-a.selfU, s-a.selfS
	if len(a.procs) == 0 {
		return userMs, sysMs, nil, nil
	}
	after := a.sampleAll()
	window := time.Since(a.t0).Seconds()
	var b bytes.Buffer
	field := func(k string, v any) {
		j, _ := json.Marshal(v)
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", k, j)
	}
	field("kind", "cpu")
	field("name", name)
	field("run", run)
	field("window_s", float64(int64(window*1000))/1000)
	ms := func(t int64) int64 { return t * 1000 / a.clkTck }
	for i, p := range a.procs {
		if a.before[i] == nil || after[i] == nil {
			field(p.name+"_user_ms", "unknown")
			field(p.name+"_sys_ms", "unknown")
			continue
		}
		field(p.name+"_user_ms", ms(after[i].user-a.before[i].user))
		field(p.name+"_sys_ms", ms(after[i].sys-a.before[i].sys))
	}
	field("exportbench_user_ms", userMs)
	field("exportbench_sys_ms", sysMs)
	return userMs, sysMs, append([]byte("{"), append(b.Bytes(), "}\n"...)...), nil
}

// cpuSelf returns the user and system CPU time this process has used so
// far, in ms.
func cpuSelf() (user, sys float64, err error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, fmt.Errorf("getrusage: %w", err)
	}
	return ms(time.Duration(ru.Utime.Nano())), ms(time.Duration(ru.Stime.Nano())), nil
}
