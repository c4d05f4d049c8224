package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"

	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// crashCyclesEnv sets the number of kill -9 cycles of TestKillNineCycles: 2 in the suite, 20 for
// the drill (docs/reliability.md).
const crashCyclesEnv = "SAILCDN_CRASH_CYCLES"

// TestKillNineCycles is issue 9's kill -9 drill: a server on one SQLite data directory, under API
// writes (CreateDistribution from two clients) and viewer traffic (a distribution's cache hits and
// misses), is SIGKILLed, checked and restarted, cycle after cycle. After every kill: PRAGMA
// integrity_check says ok; after every restart every write any killed server acknowledged is there;
// the metered bytes never exceed what viewers read (nothing counted twice), and what a crash lost is
// logged in seconds of that cycle's traffic (the documented bound is one flush interval, 2 s; the
// long drill checks it, the suite's two cycles only log it, since a loaded machine can delay a flush).
func TestKillNineCycles(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	cycles, long := 2, false
	if v := os.Getenv(crashCyclesEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", crashCyclesEnv, v)
		}
		cycles, long = n, true
	}
	dataDir := t.TempDir()
	origin := newFleetOrigin(t)
	var (
		mu     sync.Mutex // guards acked
		acked  []string   // distributions whose CreateDistribution answered 200
		host   string
		viewed int64 // bytes viewers read from every server so far
		lost   int64 // viewed minus metered after the previous kill
	)
	for cycle := range cycles {
		srv := startServerProcess(t, "--data", dataDir, "--origin", "web="+origin.URL)
		client := cycleClient(srv.endpoint)
		if cycle == 0 {
			out, err := client.CreateDistribution(context.Background(), createInput("load"))
			if err != nil {
				t.Fatal(err)
			}
			host = aws.ToString(out.Distribution.DomainName)
		}
		found := listAfterRestart(t, client)
		for _, name := range acked {
			if _, ok := found[name]; !ok {
				t.Fatalf("cycle %d: acknowledged CreateDistribution %s lost", cycle, name)
			}
		}
		viewed += serves(t, []*serverProcess{srv}, host)

		started := time.Now()
		tr := startTraffic([]string{srv.edge}, host, "/a", "/b", fmt.Sprintf("/miss-%d", cycle))
		var wg sync.WaitGroup
		var before int
		mu.Lock()
		before = len(acked)
		mu.Unlock()
		for w := range 2 {
			wg.Go(func() {
				for i := 0; ; i++ {
					name := fmt.Sprintf("k%02d-w%d-%04d", cycle, w, i)
					_, err := client.CreateDistribution(context.Background(), createInput(name))
					if stop(t, "CreateDistribution", err) {
						return
					}
					mu.Lock()
					acked = append(acked, name)
					mu.Unlock()
				}
			})
		}
		wait.Until(t, 60*time.Second, "writes and viewer traffic before the kill", func() bool {
			mu.Lock()
			defer mu.Unlock()
			// Longer than a flush interval (2 s), so that each crash has metered traffic to lose
			// and some delivered to keep.
			return len(acked)-before >= 10 && tr.served(srv.edge) >= 20 && time.Since(started) > 3*time.Second
		})
		err := srv.kill()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("cycle %d: server did not die of SIGKILL: %v", cycle, err)
		}
		took := time.Since(started)
		tr.stop()
		wg.Wait()
		viewed += tr.total()
		srv.checkNoRace(t)

		metered := checkKilledStore(t, filepath.Join(dataDir, "sailcdn.db"), "load")
		if metered > viewed {
			t.Fatalf("cycle %d: metered %d bytes, viewers read %d: counted twice", cycle, metered, viewed)
		}
		lostNow := viewed - metered - lost
		lost = viewed - metered
		rate := float64(tr.total()) / took.Seconds()
		mu.Lock()
		t.Logf("cycle %d: %d writes acknowledged (%d in all), %d viewer requests (%d bytes) in %.1fs; the crash lost %d metered bytes = %.2fs of this cycle's traffic",
			cycle, len(acked)-before, len(acked), tr.served(srv.edge), tr.total(), took.Seconds(), lostNow, float64(lostNow)/rate)
		mu.Unlock()
		// The bound is one flush interval (2 s); a flush that was on its way to the store when the
		// kill came is lost too, hence twice that.
		if long && float64(lostNow)/rate > 4 {
			t.Errorf("cycle %d: lost %.2fs of traffic, more than two flush intervals", cycle, float64(lostNow)/rate)
		}
	}
	// A last start: everything acknowledged is there, and a graceful stop loses nothing more.
	srv := startServerProcess(t, "--data", dataDir, "--origin", "web="+origin.URL)
	found := listAfterRestart(t, cycleClient(srv.endpoint))
	for _, name := range acked {
		if _, ok := found[name]; !ok {
			t.Errorf("acknowledged CreateDistribution %s lost", name)
		}
	}
	t.Logf("%d cycles: %d acknowledged writes, all present; %d metered bytes lost in all of %d viewed", cycles, len(acked), lost, viewed)
	srv.stop(t)
}

// checkKilledStore opens the SQLite database a killed server left, requires PRAGMA integrity_check
// to answer ok, and returns the bytes metered to viewers of distribution name (BytesDownloaded:
// every request of the drill's traffic is a GET).
func checkKilledStore(t *testing.T, path, name string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var verdict string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&verdict); err != nil || verdict != "ok" {
		t.Fatalf("PRAGMA integrity_check after kill -9: %q (%v)", verdict, err)
	}
	var n int64
	err = db.QueryRow(`SELECT COALESCE(SUM(u.bytes_downloaded), 0) FROM usage_minutes u
		JOIN distributions d ON d.id = u.distribution_id WHERE d.name = ?`, name).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// listAfterRestart lists every distribution through client. A listing whose response cannot be
// read is retried (and logged): with retries off, aws-sdk-go-v2 surfaces its own race between the
// request writer and a fast response (aws/aws-sdk-go-v2#2737, docs/reliability.md finding 3); what
// this drill checks is that the acknowledged writes are there.
func listAfterRestart(t *testing.T, client *lightsail.Client) map[string]bool {
	t.Helper()
	found := map[string]bool{}
	err := wait.Poll(context.Background(), 30*time.Second, func() error {
		var token *string
		for {
			out, err := client.GetDistributions(context.Background(), &lightsail.GetDistributionsInput{PageToken: token})
			if err != nil {
				t.Logf("GetDistributions after restart (retried): %v", err)
				return err
			}
			for _, d := range out.Distributions {
				found[aws.ToString(d.Name)] = true
			}
			if token = out.NextPageToken; token == nil {
				return nil
			}
		}
	})
	if err != nil {
		t.Fatalf("GetDistributions after restart: %v", err)
	}
	return found
}

// cycleClient is crashClient with connections of its own, so that no connection to a killed
// server is ever reused.
func cycleClient(endpoint string) *lightsail.Client {
	return lightsail.New(lightsail.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{}},
	})
}
