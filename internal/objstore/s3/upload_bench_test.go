package s3_test

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	s3store "github.com/auditsentinel/sentinel/internal/objstore/s3"
)

// exportSize is about what one large CSV export weighs.
const exportSize = 180_000_000

// BenchmarkUploadCSV uploads a 180 MB CSV, fed in 32 KiB reads as the
// export runner's pipe feeds it, into a real versitygw over plain http, and
// reports the CPU it cost on both sides of the wire:
//
//	client-cpu-ms/op  this process (user+system, all goroutines, GC included)
//	server-cpu-ms/op  the versitygw process (user+system)
//
// "checksum" is the default (unsigned payload, CRC32C the server checks);
// "signed" is Config.SignPayload (the SigV4 SHA-256 of every part). Run:
//
//	go test ./internal/objstore/s3 -run '^$' -bench UploadCSV -benchtime 5x -cpuprofile cpu.out
func BenchmarkUploadCSV(b *testing.B) {
	srv := server(b)
	gw := childPID(b, srv.Endpoint)
	data := csvData(exportSize)
	for _, bc := range []struct {
		name string
		sign bool
	}{{"checksum", false}, {"signed", true}} {
		b.Run(bc.name, func(b *testing.B) {
			bucket, err := s3store.New(b.Context(), s3store.Config{
				Bucket: srv.Bucket, Prefix: "bench", ForcePathStyle: true, SignPayload: bc.sign,
			})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			client0, server0 := selfCPU(b), procCPU(b, gw)
			for b.Loop() {
				info, err := bucket.Upload(b.Context(), "export.csv", &chunkReader{data: data, chunk: 32 << 10}, "text/csv")
				if err != nil {
					b.Fatal(err)
				}
				if info.Size != int64(len(data)) {
					b.Fatalf("stored %d bytes of %d", info.Size, len(data))
				}
			}
			client, server := selfCPU(b)-client0, procCPU(b, gw)-server0
			b.ReportMetric(float64(client.Milliseconds())/float64(b.N), "client-cpu-ms/op")
			b.ReportMetric(float64(server.Milliseconds())/float64(b.N), "server-cpu-ms/op")
		})
	}
}

// csvData returns n bytes of audit-event-like CSV rows.
func csvData(n int) []byte {
	var buf bytes.Buffer
	buf.Grow(n + 512)
	buf.WriteString("id,occurred_at,tenant_id,actor,action,target,ip,outcome,details\n")
	t := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	actions := []string{"user.login", "user.logout", "document.read", "document.update", "role.grant", "export.create"}
	for i := 0; buf.Len() < n; i++ {
		fmt.Fprintf(&buf, "%016x,%s,tenant-%03d,user-%05d@example.com,%s,doc/%07d,10.%d.%d.%d,%s,\"{\"\"attempt\"\":%d,\"\"agent\"\":\"\"Mozilla/5.0\"\"}\"\n",
			uint64(i)*0x9e3779b97f4a7c15, t.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i%17, i%9973,
			actions[i%len(actions)], i%1000003, i%256, (i/256)%256, i%251, []string{"success", "failure"}[i%7/6], i%5)
	}
	return buf.Bytes()[:n]
}

// chunkReader hands out data at most chunk bytes per Read, copying as a
// pipe does, and hides bytes.Reader's WriteTo from the code under test.
type chunkReader struct {
	data  []byte
	chunk int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.chunk)], r.data)
	r.data = r.data[n:]
	return n, nil
}

func selfCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTick is USER_HZ, 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// procCPU is the user+system time of process pid, from /proc/pid/stat.
func procCPU(tb testing.TB, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 of the whole line.
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest)
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * clockTick
}

// childPID finds the child process (versitygw, started by testenv) that
// listens on endpoint's address.
func childPID(tb testing.TB, endpoint string) int {
	tb.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		tb.Fatal(err)
	}
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, p := range strings.Fields(string(b)) {
			cmd, _ := os.ReadFile("/proc/" + p + "/cmdline")
			if bytes.Contains(cmd, []byte(u.Host)) {
				pid, _ := strconv.Atoi(p)
				return pid
			}
		}
	}
	tb.Fatalf("no child process serves %s", endpoint)
	return 0
}
