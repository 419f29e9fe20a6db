package csvrender

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// injectionPayloads each compute a number 1001-1099 if a spreadsheet runs
// them: a cell showing such a number ran a formula. They cover the three
// bypasses of issue 12 (bug 8) and the OWASP triggers after every place a
// spreadsheet may start a cell.
var injectionPayloads = []string{
	"=1000+1",
	"renamed x;=1000+2;y",
	"line one\n=1000+3\nline three",
	"\n=1000+4",
	"a,=1000+5",
	"a\t=1000+6",
	"+1000+7",
	"-1000-8",
	"@ABS(-1009)",
	"\r=1000+10",
	"a\r\n=1000+11",
	"a;;=1000+12",
	`a;"=1000+13`,
	"a;+1000+14;-1000-15;@ABS(-1016)",
	"x,y;=1000+17\n=1000+18,=1000+19",
	`{"k":"v;=1000+20"}`,
}

// TestSpreadsheetEvaluatesNothing opens a file of every payload in every
// text column with LibreOffice Calc, headless, formulas evaluated on import
// as Excel does, splitting on "," and on ";" (Excel's default in much of
// Europe), and checks that no cell ran. A control line the renderer did not
// write (=1234+1) must run, or the check would prove nothing.
func TestSpreadsheetEvaluatesNothing(t *testing.T) {
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		t.Fatal("soffice is not on PATH: `make test` installs it (Debian package libreoffice-calc-nogui)")
	}
	var events []audit.Event
	for i, p := range injectionPayloads {
		meta := map[string]string{"custom": p, "other_" + fmt.Sprint(i): p}
		for _, k := range audit.MetadataKeys {
			meta[k] = p
		}
		events = append(events, audit.Event{ID: p, OccurredAt: time.Unix(1_700_000_000, 0), EventType: p, SubType: p,
			SystemSource: p, AuditeeID: p, Description: p, Metadata: meta})
	}
	file := renderCSV(t, report("en", nil), events)
	file = append(file, "=1234+1\r\n"...)

	dir := t.TempDir()
	in := filepath.Join(dir, "export.csv")
	if err := os.WriteFile(in, file, 0o644); err != nil {
		t.Fatal(err)
	}
	ran := regexp.MustCompile(`^-?10\d\d$|Err:|#NAME|#VALUE|#REF`)
	for _, sep := range []struct {
		name string
		code int
	}{{"comma", 44}, {"semicolon", 59}} {
		t.Run(sep.name, func(t *testing.T) {
			cells := openInSpreadsheet(t, soffice, in, sep.code)
			control := false
			for _, c := range cells {
				if c == "1235" {
					control = true
				}
				if ran.MatchString(strings.TrimSpace(c)) {
					t.Errorf("a cell ran as a formula: %q", c)
				}
			}
			if !control {
				t.Fatalf("the control formula =1234+1 did not run: the engine did not evaluate formulas, so this proves nothing (%d cells)", len(cells))
			}
		})
	}
}

// openInSpreadsheet imports in with LibreOffice's CSV filter (separator
// code sep, text delimiter ", UTF-8, formulas evaluated) and returns every
// cell of the evaluated sheet, read back from a "|"-separated export.
func openInSpreadsheet(t *testing.T, soffice, in string, sep int) []string {
	t.Helper()
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, soffice, "--headless", "--norestore",
		"-env:UserInstallation=file://"+filepath.Join(t.TempDir(), "profile"),
		fmt.Sprintf("--infilter=CSV:%d,34,76,1,,0,false,false,false,false,false,-1,true", sep),
		"--convert-to", "csv:Text - txt - csv (StarCalc):124,34,76,1", "--outdir", out, in)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, strings.TrimSuffix(filepath.Base(in), ".csv")+".csv"))
	if err != nil {
		t.Fatalf("soffice wrote no result: %v\n%s", err, stderr.String())
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.Comma, r.FieldsPerRecord, r.LazyQuotes = '|', -1, true
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("read back: %v\n%s", err, b)
	}
	var cells []string
	for _, rec := range recs {
		cells = append(cells, rec...)
	}
	if len(cells) < len(injectionPayloads)*19 {
		t.Fatalf("only %d cells came back:\n%s", len(cells), b)
	}
	return cells
}
