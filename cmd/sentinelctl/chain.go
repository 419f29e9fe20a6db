package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/auditsentinel/sentinel/internal/client"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/manifest"
)

// chainOutput is the JSON form of a chain verification.
type chainOutput struct {
	OK bool `json:"ok"`
	manifest.ChainReport
}

// verifyChain is `verify --chain`: the manifests of a schedule's runs, from
// dir or fetched from the API (scheduleID), checked as a chain.
func verifyChain(ctx context.Context, e *env, c *client.Client, dir, scheduleID string, keys manifest.PublicKeys,
	from int64, asJSON bool) error {
	var (
		entries  []manifest.ChainEntry
		problems []string
		err      error
	)
	if scheduleID != "" {
		var notes []string
		entries, notes, err = fetchChain(ctx, c, scheduleID)
		for _, n := range notes {
			fmt.Fprintln(e.stderr, "sentinelctl verify:", n)
		}
	} else {
		entries, problems, err = readChainDir(dir, keys)
	}
	if err != nil {
		return err
	}
	rep := manifest.VerifyChain(entries, keys, from)
	rep.Problems = append(problems, rep.Problems...)
	if scheduleID != "" && rep.ScheduleID == "" {
		rep.ScheduleID = scheduleID
	}
	if asJSON {
		if rep.Runs == nil {
			rep.Runs = []manifest.RunReport{}
		}
		if err := printJSON(e.stdout, chainOutput{OK: rep.OK(), ChainReport: rep}); err != nil {
			return err
		}
	} else {
		fmt.Fprint(e.stdout, rep.String())
	}
	if !rep.OK() {
		return errors.New("chain verification FAILED")
	}
	return nil
}

// readChainDir reads every *.json in dir as a manifest and checks, for
// each, the file beside it: named as the API names its download
// (httpapi.FilenameOf), or <export_id>.<extension>. A .json file that is
// not a manifest is a fault: it may be one whose bytes were damaged.
func readChainDir(dir string, keys manifest.PublicKeys) ([]manifest.ChainEntry, []string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, nil, err
	}
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("%s: no *.json manifests", dir)
	}
	slices.Sort(names)
	var (
		entries  []manifest.ChainEntry
		problems []string
	)
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, nil, err
		}
		m, err := manifest.Parse(bytes.NewReader(b))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", filepath.Base(name), err))
			continue
		}
		ent := manifest.ChainEntry{Source: filepath.Base(name), Manifest: m}
		if file := fileBeside(dir, name, m); file != "" {
			f, err := os.Open(file)
			if err != nil {
				return nil, nil, err
			}
			rep, err := manifest.VerifyFile(f, m, keys)
			f.Close()
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", file, err)
			}
			ent.File, ent.FileName = &rep, filepath.Base(file)
		}
		entries = append(entries, ent)
	}
	return entries, problems, nil
}

// fileBeside returns the path of m's file in dir, "" when there is none.
func fileBeside(dir, manifestPath string, m manifest.Manifest) string {
	candidates := []string{httpapi.FilenameOf(m.TenantID, m.ExportID, m.CompletedAt, m.Filters)}
	if matches, err := filepath.Glob(filepath.Join(dir, globEscape(m.ExportID)+".*")); err == nil {
		for _, p := range matches {
			candidates = append(candidates, filepath.Base(p))
		}
	}
	for _, c := range candidates {
		p := filepath.Join(dir, c)
		if p == manifestPath || strings.HasSuffix(c, ".json") {
			continue
		}
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`)
	return r.Replace(s)
}

// fetchChain lists the schedule's exports and fetches the manifest of every
// completed one. A run that failed or expired has no manifest: the chain
// shows it as a hole, and the notes say why; runs still queued or running
// are not in the chain yet.
func fetchChain(ctx context.Context, c *client.Client, scheduleID string) ([]manifest.ChainEntry, []string, error) {
	var (
		entries []manifest.ChainEntry
		notes   []string
	)
	q := url.Values{"schedule_id": {scheduleID}, "limit": {"200"}}
	for {
		page, err := c.ListExports(ctx, q)
		if err != nil {
			return nil, nil, fmt.Errorf("list exports of schedule %s: %w", scheduleID, err)
		}
		for _, x := range page.Exports {
			if x.Status != "completed" {
				if x.Status == "queued" || x.Status == "running" {
					continue // not done yet: not part of the chain so far
				}
				notes = append(notes, fmt.Sprintf("export %s is %s: it has no manifest", x.ID, x.Status))
				continue
			}
			_, m, err := c.Manifest(ctx, x.ID)
			if err != nil {
				notes = append(notes, fmt.Sprintf("export %s: manifest: %v", x.ID, err))
				continue
			}
			entries = append(entries, manifest.ChainEntry{Source: x.ID, Manifest: m})
		}
		if page.NextCursor == "" {
			return entries, notes, nil
		}
		q.Set("cursor", page.NextCursor)
	}
}
