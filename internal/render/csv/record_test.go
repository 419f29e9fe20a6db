package csvrender

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// appendRecord must write exactly what encoding/csv's Writer (UseCRLF)
// writes, which the package documented before it stopped using it.
func checkRecord(t *testing.T, fields ...string) {
	t.Helper()
	var want bytes.Buffer
	w := csv.NewWriter(&want)
	w.UseCRLF = true
	if err := w.Write(fields); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if got := appendRecord(nil, fields); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("%q:\n got %q\nwant %q", fields, got, want.Bytes())
	}
}

func TestAppendRecordMatchesEncodingCSV(t *testing.T) {
	for _, rec := range [][]string{
		{""}, {"", ""}, {"a"}, {"a", "b"}, {`\.`}, {`\.x`}, {" lead"}, {"\tlead"}, {"\u00a0nbsp"}, {"\u2003em"},
		{"trail "}, {"a,b"}, {`say "hi"`}, {"l1\nl2"}, {"l1\r\nl2"}, {"cr\ronly"}, {`"`}, {"\n"}, {"\r"},
		{"é,ü", "Ω"}, {"\xff\xfe", "x"}, {"'=1+1", "-", "@"},
	} {
		checkRecord(t, rec...)
	}
}

func FuzzAppendRecord(f *testing.F) {
	f.Add("a", "b,c", "d\"e")
	f.Add(" x", "\r\n", `\.`)
	f.Fuzz(func(t *testing.T, a, b, c string) { checkRecord(t, a, b, c) })
}
