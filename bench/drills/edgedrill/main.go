// Command edgedrill runs issue 9's drills against a real `sailcdn serve` process on loopback and
// prints what it measured: slow viewers (slowloris, readers that stall or trickle), 10,000 idle
// keep-alive connections (memory per connection), a 5 GB object streamed through the edge (peak
// resident memory), and 60 s of mixed load (hits, misses, uploads, API reads and writes from several
// accounts) whose metered bytes are compared with what the load generator's sockets carried.
//
// The origin is this process (generated bodies: nothing large is ever on disk); sailcdn runs
// with --dev on a temporary SQLite data directory. Run it through bench/drills/run.sh, which builds
// the binary; the figures go to docs/reliability.md.
//
//	go run ./bench/drills/edgedrill -bin /tmp/sailcdn -drill slow|idle|big|mixed [flags]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"
)

// drillFlags are the knobs of every drill (defaults: the figures).
type drillFlags struct {
	bin       string
	keep      bool
	idleConns int
	bigSize   int64
	duration  time.Duration
	attackers int
	stalled   int
}

func main() {
	var f drillFlags
	drill := flag.String("drill", "", "slow, idle, big or mixed")
	flag.StringVar(&f.bin, "bin", "", "the sailcdn binary")
	flag.BoolVar(&f.keep, "keep", false, "keep the data directory and the server's log")
	flag.IntVar(&f.idleConns, "conns", 10000, "idle: keep-alive connections to hold open")
	flag.Int64Var(&f.bigSize, "size", 5_000_000_000, "big: bytes of the generated object")
	flag.DurationVar(&f.duration, "duration", 60*time.Second, "mixed: how long the load runs")
	flag.IntVar(&f.attackers, "attackers", 200, "slow: slowloris connections")
	flag.IntVar(&f.stalled, "stalled", 50, "slow: readers that stall on a 64 MiB uncacheable stream")
	flag.Parse()
	if f.bin == "" {
		log.Fatal("-bin is required")
	}
	// 10,000 connections need 10,000 descriptors here and in the server (which inherits the limit).
	// Raised to the hard limit (a container may not allow raising that).
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			log.Printf("raising the descriptor limit: %v", err)
		}
	}
	drills := map[string]func(drillFlags) error{"slow": slowDrill, "idle": idleDrill, "big": bigDrill, "mixed": mixedDrill}
	run, ok := drills[*drill]
	if !ok {
		log.Fatalf("-drill %q: want slow, idle, big or mixed", *drill)
	}
	if err := run(f); err != nil {
		log.Fatalf("drill %s: %v", *drill, err)
	}
}

// node is one `sailcdn serve` child process (role all).
type node struct {
	cmd       *exec.Cmd
	api, edge string // host:port
	dataDir   string
	logPath   string
	keep      bool
}

// nodeConfig says how to start a node.
type nodeConfig struct {
	origins     map[string]string // name → URL
	credentials string            // file content; empty: only --dev's test/test
	extra       []string          // more flags
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startNode(f drillFlags, nc nodeConfig) (*node, error) {
	dir, err := os.MkdirTemp("", "sailcdn-drill-")
	if err != nil {
		return nil, err
	}
	n := &node{api: freeAddr(), edge: freeAddr(), dataDir: dir, logPath: filepath.Join(dir, "server.log"), keep: f.keep}
	args := []string{"serve", "--dev", "--data", filepath.Join(dir, "data"), "--api-addr", n.api, "--edge-addr", n.edge,
		"--edge-tls-addr", "", "--log-level", "warn", "--deploy-delay", "100ms"}
	for name, url := range nc.origins {
		args = append(args, "--origin", name+"="+url)
	}
	if nc.credentials != "" {
		p := filepath.Join(dir, "credentials")
		if err := os.WriteFile(p, []byte(nc.credentials), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "--credentials", p)
	}
	args = append(args, nc.extra...)
	logFile, err := os.Create(n.logPath)
	if err != nil {
		return nil, err
	}
	n.cmd = exec.Command(f.bin, args...)
	n.cmd.Stdout, n.cmd.Stderr = logFile, logFile
	if err := n.cmd.Start(); err != nil {
		return nil, err
	}
	logFile.Close()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + n.api + "/_sailcdn/clock"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n, nil
			}
		}
	}
	n.stop()
	return nil, errors.New("the server did not start within 60s")
}

// stop ends the server gracefully (SIGTERM: the meter flushes) and removes its data unless -keep.
func (n *node) stop() {
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
		<-done
	}
	if n.keep {
		log.Printf("kept %s", n.dataDir)
		return
	}
	_ = os.RemoveAll(n.dataDir)
}

// memory is a process's resident set now and at its peak (VmRSS, VmHWM), in bytes.
type memory struct{ rss, hwm int64 }

func (n *node) memory() memory {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid))
	if err != nil {
		return memory{}
	}
	var m memory
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			m.rss = kb << 10
		case "VmHWM":
			m.hwm = kb << 10
		}
	}
	return m
}

// sampleMemory records the largest VmRSS seen every 100 ms until stop is closed.
func (n *node) sampleMemory(stop <-chan struct{}) <-chan int64 {
	return samplePeak(stop, func() int64 { return n.memory().rss })
}

// samplePeak records the largest value of read every 100 ms until stop is closed.
func samplePeak(stop <-chan struct{}, read func() int64) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// setup is what the edge drills start with: the origin, a node, and one distribution on it.
type setup struct {
	origin     *origin
	node       *node
	d          distribution
	stopOrigin func()
}

// startSetup starts the origin and a node (with the extra flags) and creates distribution name.
func startSetup(f drillFlags, name string, extra ...string) (*setup, error) {
	s := &setup{origin: &origin{}}
	url, stopOrigin := startOrigin(s.origin)
	s.stopOrigin = stopOrigin
	n, err := startNode(f, nodeConfig{origins: map[string]string{"gen": url}, extra: extra})
	if err != nil {
		stopOrigin()
		return nil, err
	}
	s.node = n
	if s.d, err = n.createDistribution(context.Background(), n.client("test", "test"), name, "gen"); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *setup) stop() {
	s.node.stop()
	s.stopOrigin()
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func (n *node) client(key, secret string) *lightsail.Client {
	return lightsail.New(lightsail.Options{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint: aws.String("http://" + n.api), Retryer: aws.NopRetryer{},
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
	})
}

// distribution is what a drill needs to reach a distribution on the edge.
type distribution struct {
	name, host string
}

// createDistribution creates a distribution for origin with every method allowed (uploads pass
// through; GET and HEAD are cached per the origin's Cache-Control) and waits until the edge serves it.
func (n *node) createDistribution(ctx context.Context, c *lightsail.Client, name, origin string) (distribution, error) {
	d, err := n.create(ctx, c, name, origin)
	if err != nil {
		return d, err
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if fromOrigin, _ := n.probe(http.DefaultClient, d); fromOrigin {
			return d, nil
		}
	}
	return d, fmt.Errorf("the edge does not serve %s within 30s", d.host)
}

// create only creates the distribution.
func (n *node) create(ctx context.Context, c *lightsail.Client, name, origin string) (distribution, error) {
	out, err := c.CreateDistribution(ctx, &lightsail.CreateDistributionInput{
		DistributionName:     aws.String(name),
		BundleId:             aws.String("medium_1_0"),
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting},
		CacheBehaviorSettings: &types.CacheSettings{
			AllowedHTTPMethods: aws.String("GET,HEAD,OPTIONS,PUT,PATCH,POST,DELETE"),
		},
		Origin: &types.InputOrigin{Name: aws.String(origin), RegionName: types.RegionNameUsEast1},
	})
	if err != nil {
		return distribution{}, err
	}
	return distribution{name: name, host: aws.ToString(out.Distribution.DomainName)}, nil
}

// probe sends GET /ready for d through viewer and reports whether the origin answered it (rather
// than the edge, for a host it does not serve yet).
func (n *node) probe(viewer *http.Client, d distribution) (bool, error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+n.edge+"/ready", nil)
	req.Host = d.host
	resp, err := viewer.Do(req)
	if err != nil {
		return false, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("X-Origin-Sent") != "", err
}

// percentile of sorted durations, p in [0,100].
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

func summarize(d []time.Duration) string {
	s := slices.Clone(d)
	slices.Sort(s)
	return fmt.Sprintf("n %d p50 %.1f ms p99 %.1f ms max %.1f ms", len(s),
		ms(percentile(s, 50)), ms(percentile(s, 99)), ms(percentile(s, 100)))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
