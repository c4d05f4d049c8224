// Command propagation measures how long a configuration change takes to reach every edge of a fleet:
// one API node and -edges edge nodes, separate `sailcdn serve` processes on loopback sharing one store.
// It makes -changes changes (UpdateDistribution toggling isEnabled, through the real aws-sdk-go-v2
// client) and, after each, polls every edge (a raw GET every millisecond) until it answers with the
// change applied (403 for a disabled distribution, 200 when enabled again). The time runs from the
// API's response to the edge's first answer showing the change.
//
// Run it through bench/propagation.sh, which builds the binary, starts a private PostgreSQL, and
// measures PostgreSQL (LISTEN/NOTIFY) and, as the anchor, SQLite shared by the processes (which can
// only poll) side by side.
//
//	go run ./bench/propagation -bin /tmp/sailcdn -store postgres -dsn postgres://... [-edges 3] [-changes 100]
//	go run ./bench/propagation -bin /tmp/sailcdn -store sqlite -dir /tmp/x
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"

	"github.com/sailcdn/sailcdn/internal/ca"
)

func main() {
	bin := flag.String("bin", "", "the sailcdn binary")
	storeKind := flag.String("store", "postgres", "postgres or sqlite")
	dsn := flag.String("dsn", "", "PostgreSQL URL (store postgres)")
	dir := flag.String("dir", "", "data directory shared by the processes (store sqlite)")
	edges := flag.Int("edges", 3, "edge nodes")
	changes := flag.Int("changes", 100, "configuration changes to measure")
	flag.Parse()
	if *bin == "" {
		log.Fatal("-bin is required")
	}
	// Every node shares the store's key-encryption key, as a fleet must (created before they start).
	kek := filepath.Join(os.TempDir(), fmt.Sprintf("sailcdn-propagation-kek-%d", os.Getpid()))
	if _, err := ca.LoadOrCreateKEK(kek); err != nil {
		log.Fatal(err)
	}
	defer os.Remove(kek)
	storeFlags := []string{"--database-url", *dsn, "--key-encryption-key", kek}
	if *storeKind == "sqlite" {
		storeFlags = []string{"--data", *dir, "--key-encryption-key", kek}
	}
	if err := run(*bin, storeFlags, *storeKind, *edges, *changes); err != nil {
		os.Remove(kek)
		log.Fatal(err)
	}
}

// node is one child process.
type node struct {
	cmd        *exec.Cmd
	api, edge  string // host:port
	admin      string
	stderrFile *os.File
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func start(bin, role string, flags []string) (*node, error) {
	n := &node{}
	args := []string{"serve", "--dev", "--role", role, "--log-level", "warn", "--deploy-delay", "1s"}
	switch role {
	case "api":
		n.api = freeAddr()
		args = append(args, "--api-addr", n.api)
	case "edge":
		n.edge, n.admin = freeAddr(), freeAddr()
		args = append(args, "--edge-addr", n.edge, "--admin-addr", n.admin, "--edge-tls-addr", freeAddr())
	}
	n.cmd = exec.Command(bin, append(args, flags...)...)
	n.cmd.Stderr = os.Stderr
	if err := n.cmd.Start(); err != nil {
		return nil, err
	}
	url := "http://" + n.api + "/_sailcdn/clock"
	if role == "edge" {
		url = "http://" + n.admin + "/healthz"
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n, nil
			}
		}
	}
	n.stop()
	return nil, fmt.Errorf("%s node did not start", role)
}

func (n *node) stop() {
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = n.cmd.Process.Kill()
		<-done
	}
}

// status sends one GET for host to the edge and returns the status code.
func status(c *http.Client, edge, host string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+edge+"/", nil)
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func run(bin string, storeFlags []string, storeKind string, edges, changes int) error {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = io.WriteString(w, "hello")
	}))
	defer origin.Close()
	api, err := start(bin, "api", append(slices.Clone(storeFlags), "--origin", "web="+origin.URL))
	if err != nil {
		return err
	}
	defer api.stop()
	var fleet []*node
	defer func() {
		for _, n := range fleet {
			n.stop()
		}
	}()
	for range edges {
		n, err := start(bin, "edge", storeFlags)
		if err != nil {
			return err
		}
		fleet = append(fleet, n)
	}
	client := lightsail.New(lightsail.Options{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + api.api), Retryer: aws.NopRetryer{},
	})
	ctx := context.Background()
	name := fmt.Sprintf("propagation-%d", time.Now().UnixNano())
	out, err := client.CreateDistribution(ctx, &lightsail.CreateDistributionInput{
		DistributionName: aws.String(name), BundleId: aws.String("small_1_0"),
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting},
		Origin:               &types.InputOrigin{Name: aws.String("web"), RegionName: types.RegionNameUsEast1},
	})
	if err != nil {
		return err
	}
	host := aws.ToString(out.Distribution.DomainName)
	viewers := make([]*http.Client, edges)
	for i := range viewers {
		viewers[i] = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 5 * time.Second}
	}
	waitAll := func(want int, since time.Time) ([]time.Duration, error) {
		took := make([]time.Duration, edges)
		errs := make([]error, edges)
		var wg sync.WaitGroup
		for i, n := range fleet {
			wg.Go(func() {
				for deadline := since.Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
					st, err := status(viewers[i], n.edge, host)
					if err == nil && st == want {
						took[i] = time.Since(since)
						return
					}
					if time.Now().After(deadline) {
						errs[i] = fmt.Errorf("edge %s: still %d (%v) after 10s", n.edge, st, err)
						return
					}
				}
			})
		}
		wg.Wait()
		return took, errors.Join(errs...)
	}
	if _, err := waitAll(http.StatusOK, time.Now()); err != nil {
		return err
	}
	var samples, perChange []time.Duration
	for i := range changes {
		enabled, want := i%2 == 1, http.StatusForbidden
		if enabled {
			want = http.StatusOK
		}
		if _, err := client.UpdateDistribution(ctx, &lightsail.UpdateDistributionInput{DistributionName: aws.String(name), IsEnabled: aws.Bool(enabled)}); err != nil {
			return err
		}
		took, err := waitAll(want, time.Now())
		if err != nil {
			return fmt.Errorf("change %d: %w", i, err)
		}
		samples = append(samples, took...)
		perChange = append(perChange, slices.Max(took))
	}
	fmt.Printf("store=%s edges=%d changes=%d\n", storeKind, edges, changes)
	report("per edge (change reaches one edge)", samples)
	report("per change (change reaches every edge)", perChange)
	return nil
}

// report prints nearest-rank percentiles of d.
func report(what string, d []time.Duration) {
	slices.Sort(d)
	q := func(p float64) time.Duration {
		rank := int(math.Ceil(p * float64(len(d))))
		return d[max(rank, 1)-1].Round(100 * time.Microsecond)
	}
	fmt.Printf("  %-40s n=%-4d p50=%-9s p90=%-9s p99=%-9s max=%s\n", what, len(d), q(0.50), q(0.90), q(0.99), q(1))
}
