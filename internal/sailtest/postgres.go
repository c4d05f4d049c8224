package sailtest

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sailcdn/sailcdn/internal/store"
)

// Postgres is a private PostgreSQL cluster of one test, which the test may stop and start again: for
// what happens when the database goes away. (The shared cluster of PostgresDSNEnv must never be
// stopped: other tests use it.) It runs scripts/pg-test-env.sh, so it needs PostgreSQL's server
// binaries; without them the test is skipped. Starting one takes a few seconds (initdb).
type Postgres struct {
	DSN  string
	dir  string
	port string
}

// pgScript is scripts/pg-test-env.sh, found from this file (tests run in their package's directory).
func pgScript(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("sailtest: cannot locate the repository")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "pg-test-env.sh")
}

// PrivatePostgres initialises and starts a cluster on a free loopback port; it is stopped and removed
// when the test ends.
func PrivatePostgres(t testing.TB) *Postgres {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(m) == 0 && os.Getenv("PG_BIN") == "" {
		t.Skip("no PostgreSQL server binaries (apt-get install postgresql, or set PG_BIN)")
	}
	// Not t.TempDir(), whose parent is private: when the tests run as root the server runs as
	// "postgres", which must be able to reach the directory (the script gives it the directory).
	dir, err := os.MkdirTemp("", "sailcdn-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg := &Postgres{dir: dir}
	t.Cleanup(func() {
		_, _ = pg.script(t, "stop")
		os.RemoveAll(dir)
	})
	// A port picked free can be taken before the server binds it: retry on another.
	for attempt := 1; ; attempt++ {
		_, pg.port, _ = net.SplitHostPort(FreeAddrs(t, 1)[0])
		out, err := pg.script(t, "start")
		if err == nil {
			// The script prints the DSN last.
			lines := strings.Split(strings.TrimSpace(out), "\n")
			pg.DSN = strings.TrimSpace(lines[len(lines)-1])
			return pg
		}
		if attempt == 3 {
			t.Fatalf("start PostgreSQL: %v\n%s", err, out)
		}
	}
}

// Backend is the cluster as a store backend for New (WithBackend).
func (pg *Postgres) Backend() Backend {
	return Backend{Name: "postgres-private", Config: func(testing.TB) store.Config {
		return store.Config{Driver: store.DriverPostgres, DSN: pg.DSN}
	}}
}

// Stop stops the server (pg_ctl stop -m fast: connections are cut, as in a crash of the database
// host seen from the clients).
func (pg *Postgres) Stop(t testing.TB) {
	t.Helper()
	if out, err := pg.script(t, "stop"); err != nil {
		t.Fatalf("stop PostgreSQL: %v\n%s", err, out)
	}
}

// Start starts the stopped server again on the same port and data.
func (pg *Postgres) Start(t testing.TB) {
	t.Helper()
	if out, err := pg.script(t, "start"); err != nil {
		t.Fatalf("start PostgreSQL: %v\n%s", err, out)
	}
}

func (pg *Postgres) script(t testing.TB, cmd string) (string, error) {
	args := []string{cmd, pg.dir}
	if cmd != "stop" {
		args = append(args, pg.port)
	}
	c := exec.Command(pgScript(t), args...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return string(out) + stderr.String(), err
	}
	return string(out), nil
}
