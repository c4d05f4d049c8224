package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"

	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
	"github.com/sailcdn/sailcdn/internal/store"
)

// The data directory runs out of space, or turns read-only, under a running node (issue 9's drill):
// API writes answer ServiceException with a message that says what is wrong, reads go on, the edge
// keeps serving hits and misses and keeps metering into memory, nothing in the database is
// corrupted (PRAGMA integrity_check), and once the space (or write access) returns, writes succeed
// again and every metered byte reaches the store. A real small filesystem is mounted for it: a
// tmpfs to fill, a loop-mounted ext4 with errors=remount-ro that the kernel turns read-only — so the
// test needs root (CI runs as root) and skips, saying so, where it cannot mount.

// mounted is a small filesystem mounted for one test.
type mounted struct {
	dir  string   // where it is mounted
	img  string   // the ext4 image ("" for tmpfs)
	args []string // mount's arguments
}

// mountDataDir mounts fstype (tmpfs or a loop ext4 image) at a fresh directory and unmounts it when
// the test ends (after the node, which is started later, has shut down).
func mountDataDir(t *testing.T, fstype string) *mounted {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	m := &mounted{dir: dir}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	var args []string
	switch fstype {
	case "tmpfs":
		args = []string{"-t", "tmpfs", "-o", "size=8m", "tmpfs", dir}
	case "ext4":
		img := filepath.Join(t.TempDir(), "data.img")
		if err := os.WriteFile(img, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(img, 16<<20); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mkfs.ext4", "-q", "-F", img).CombinedOutput(); err != nil {
			t.Skipf("cannot make an ext4 image (mkfs.ext4 from e2fsprogs): %v %s", err, out)
		}
		args = []string{"-o", "loop,errors=remount-ro", img, dir}
		m.img = img
	}
	m.args = args
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a %s to fill or turn read-only (needs root, as in CI): %v %s", fstype, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if exec.Command("mountpoint", "-q", dir).Run() != nil {
			return // unmounted by the test
		}
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return m
}

// run runs a command the test needs, failing the test if it fails.
func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v %s", name, strings.Join(args, " "), err, out)
	}
}

// fill writes a file into dir until the filesystem is full and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v", dir, err)
			}
			return path
		}
	}
}

// ext4Device is the loop device's name under /sys/fs/ext4 for the ext4 mounted at dir.
func ext4Device(t *testing.T, dir string) string {
	t.Helper()
	out, err := exec.Command("findmnt", "-n", "-o", "SOURCE", dir).Output()
	if err != nil {
		t.Skipf("findmnt: %v", err)
	}
	return filepath.Base(strings.TrimSpace(string(out)))
}

// dataDirDrill is one run: start a node on dir, break the directory, check, repair, check.
type dataDirDrill struct {
	name    string
	fstype  string
	breakIt func(t *testing.T, dir string) // makes writes fail
	// repair makes writes possible again: under the running node (restart false), or with the node
	// stopped (restart true: what an operator does after a disk error).
	repair  func(t *testing.T, m *mounted)
	restart bool
	code    string // the ServiceException code writes answer meanwhile
	message string // a part of its message
}

func TestDataDirectoryFullOrReadOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounts a small filesystem: needs root (CI runs as root)")
	}
	drills := []dataDirDrill{
		{
			name: "full", fstype: "tmpfs",
			breakIt: func(t *testing.T, dir string) { fill(t, dir) },
			repair: func(t *testing.T, m *mounted) {
				if err := os.Remove(filepath.Join(m.dir, "filler")); err != nil {
					t.Fatal(err)
				}
			},
			code: "StoreFull", message: "out of disk space",
		},
		{
			name: "read-only", fstype: "ext4",
			breakIt: func(t *testing.T, dir string) {
				// What a failing disk does to an ext4 mounted errors=remount-ro: the kernel turns it
				// read-only under the open files (root or not, writes get EROFS).
				p := filepath.Join("/sys/fs/ext4", ext4Device(t, dir), "trigger_fs_error")
				if err := os.WriteFile(p, []byte("sailcdn drill\n"), 0o200); err != nil {
					t.Skipf("cannot trigger an ext4 error through %s: %v", p, err)
				}
			},
			// ext4 aborted its journal: it cannot be remounted read-write before a check.
			repair: func(t *testing.T, m *mounted) {
				run(t, "umount", m.dir)
				if out, err := exec.Command("e2fsck", "-fy", m.img).CombinedOutput(); err != nil {
					var exit *exec.ExitError // 1: errors corrected
					if !errors.As(err, &exit) || exit.ExitCode() > 1 {
						t.Fatalf("e2fsck: %v %s", err, out)
					}
				}
				run(t, "mount", m.args...)
			},
			restart: true,
			code:    "StoreReadOnly", message: "read-only",
		},
	}
	for _, d := range drills {
		t.Run(d.name, func(t *testing.T) { d.run(t) })
	}
}

func (d dataDirDrill) run(t *testing.T) {
	m := mountDataDir(t, d.fstype)
	dir := m.dir
	dbPath := filepath.Join(dir, "sailcdn.db")
	// Usage that cannot reach the store waits in memory, and in a spill directory on another
	// filesystem when the node stops meanwhile (docs/scaleout.md).
	spill := t.TempDir()
	var kek []byte // a restarted node needs the key that sealed the store's private keys
	start := func() *sailtest.Env {
		return sailtest.New(t, sailtest.WithBackend(sailtest.Backend{Name: "sqlite on " + d.fstype,
			Config: func(testing.TB) store.Config { return store.Config{Driver: store.DriverSQLite, DSN: dbPath} }}),
			func(c *sailtest.Config) {
				c.Edge.SpillDir = spill
				if kek != nil {
					c.Certificates.KEK = kek
				}
			})
	}
	e := start()
	kek = e.Config.Certificates.KEK
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = io.WriteString(w, strings.Repeat("object "+r.URL.Path+"\n", 100))
	}))
	t.Cleanup(origin.Close)
	e.AddOrigin("web", origin.URL, "Instance", "us-east-1")
	ctx := context.Background()
	client := e.Client(sailtest.Alice, "us-east-1")
	out, err := client.CreateDistribution(ctx, &ls.CreateDistributionInput{
		DistributionName: aws.String("site"), BundleId: aws.String("small_1_0"),
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting},
		Origin:               &types.InputOrigin{Name: aws.String("web"), RegionName: types.RegionNameUsEast1},
	})
	if err != nil {
		t.Fatal(err)
	}
	host := aws.ToString(out.Distribution.DomainName)
	e.StartEdge()
	var read int64 // every byte viewers read from the edge: what the meter must store
	view := func(path string) error {
		c, err := net.Dial("tcp", e.Edge.Addr)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host); err != nil {
			return err
		}
		answer, err := io.ReadAll(c)
		read += int64(len(answer))
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(answer, []byte("HTTP/1.1 200 ")) {
			return fmt.Errorf("GET %s: %.200q", path, answer)
		}
		return nil
	}
	for _, p := range []string{"/hit", "/hit"} {
		if err := view(p); err != nil {
			t.Fatal(err)
		}
	}

	d.breakIt(t, dir)
	tag := func(v string) error {
		_, err := client.TagResource(ctx, &ls.TagResourceInput{ResourceName: aws.String("site"),
			Tags: []types.Tag{{Key: aws.String("drill"), Value: aws.String(v)}}})
		return err
	}
	// SQLite may still find room in pages it has, and ext4 turns read-only from a work queue just
	// after the error: writes fail, and say why, within moments.
	var serviceErr *types.ServiceException
	wait.For(t, 10*time.Second, "API writes to fail with "+d.code, func() error {
		_, err := client.CreateDistribution(ctx, &ls.CreateDistributionInput{
			DistributionName: aws.String(fmt.Sprintf("while-broken-%d", time.Now().UnixNano())), BundleId: aws.String("small_1_0"),
			DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting},
			Origin:               &types.InputOrigin{Name: aws.String("web"), RegionName: types.RegionNameUsEast1},
		})
		switch {
		case err == nil:
			return errors.New("still succeeding")
		case !errors.As(err, &serviceErr):
			t.Fatalf("CreateDistribution with the data directory %s: %v, want a ServiceException", d.name, err)
		case aws.ToString(serviceErr.Code) != d.code || !strings.Contains(serviceErr.ErrorMessage(), d.message):
			return fmt.Errorf("ServiceException %s %q, want %s saying %q", aws.ToString(serviceErr.Code), serviceErr.ErrorMessage(), d.code, d.message)
		}
		return nil
	})
	t.Logf("data directory %s: %s: %s", d.name, aws.ToString(serviceErr.Code), serviceErr.ErrorMessage())
	if err := tag("broken"); !errors.As(err, &serviceErr) {
		t.Errorf("TagResource with the data directory %s: %v, want a ServiceException", d.name, err)
	}
	// Reads go on; the edge serves hits and misses and meters them (into memory meanwhile).
	if _, err := client.GetDistributions(ctx, &ls.GetDistributionsInput{}); err != nil {
		t.Errorf("GetDistributions with the data directory %s: %v", d.name, err)
	}
	for i := range 20 {
		for _, p := range []string{"/hit", fmt.Sprintf("/miss-%d", i)} {
			if err := view(p); err != nil {
				t.Errorf("the edge with the data directory %s: %v", d.name, err)
			}
		}
	}

	if d.restart {
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := e.Node.Shutdown(stopCtx); err != nil {
			t.Fatalf("shutdown with the data directory %s: %v", d.name, err)
		}
		d.repair(t, m)
		e = start()
		e.StartEdge()
		client = e.Client(sailtest.Alice, "us-east-1")
	} else {
		d.repair(t, m)
	}
	wait.For(t, 15*time.Second, "API writes to succeed again", func() error { return tag("repaired") })
	if err := view("/after"); err != nil {
		t.Error(err)
	}
	dist, err := e.Store.GetDistribution(ctx, sailtest.Alice.AccountID, "site")
	if err != nil {
		t.Fatal(err)
	}
	wait.For(t, 15*time.Second, "every metered byte in the store", func() error {
		rows, err := e.Store.QueryUsage(ctx, dist.ID, 0, 1<<40)
		if err != nil {
			return err
		}
		var stored int64
		for _, r := range rows {
			stored += r.BytesDownloaded
		}
		if stored != read {
			return fmt.Errorf("stored %d bytes, viewers read %d", stored, read)
		}
		return nil
	})
	checkIntegrity(t, dbPath)
}

func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var verdict string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&verdict); err != nil || verdict != "ok" {
		t.Errorf("PRAGMA integrity_check: %q (%v)", verdict, err)
	}
}
