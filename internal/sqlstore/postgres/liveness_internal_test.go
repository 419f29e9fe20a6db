//go:build unix

package postgres

import (
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/auditsentinel/sentinel/internal/testenv"
)

// The socket look shouldPing relies on: nothing pending on a quiet
// connection, readable once the peer sent something or closed, and it
// leaves what is pending for the connection's own reader.
func TestSocketReadable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	if readable, ok := socketReadable(client); !ok || readable {
		t.Fatalf("quiet connection: readable=%v ok=%v, want false true", readable, ok)
	}
	if _, err := server.Write([]byte("E")); err != nil {
		t.Fatal(err)
	}
	waitReadable(t, client)
	buf := make([]byte, 1)
	if _, err := client.Read(buf); err != nil || buf[0] != 'E' {
		t.Fatalf("the pending byte was not left for the reader: %q %v", buf, err)
	}
	if readable, _ := socketReadable(client); readable {
		t.Fatal("readable after the pending byte was read")
	}
	server.Close()
	waitReadable(t, client)

	if _, ok := socketReadable(struct{ net.Conn }{client}); ok {
		t.Fatal("a connection without a socket should report ok=false")
	}
}

// waitReadable waits for loopback delivery, which is quick but not
// synchronous with the peer's write.
func waitReadable(t *testing.T, c net.Conn) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if readable, ok := socketReadable(c); ok && readable {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("never readable")
		}
	}
}

// On a real PostgreSQL connection: the poll is what decides (ok), a
// healthy idle connection has nothing pending (so it is neither pinged nor
// made to wait: pgx's CheckConn, the fallback, waits out its 1 ms deadline
// on a healthy connection, which had added a millisecond to every query on
// a connection used in the last second), and a connection whose backend
// was terminated is readable before anything reads it.
func TestSocketReadablePostgres(t *testing.T) {
	url := testenv.PostgresURL(t)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	admin, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(t.Context())

	var one int
	if err := conn.QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	if readable, ok := socketReadable(conn.PgConn().Conn()); !ok || readable {
		t.Fatalf("healthy idle connection: readable=%v ok=%v, want false true", readable, ok)
	}
	if _, err := admin.Exec(t.Context(), "SELECT pg_terminate_backend($1)", conn.PgConn().PID()); err != nil {
		t.Fatal(err)
	}
	waitReadable(t, conn.PgConn().Conn())
}
