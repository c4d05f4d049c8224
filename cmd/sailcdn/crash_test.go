package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// The crash test runs the real binary in a child process: the test binary itself, re-executed into
// TestCrashServerProcess, which calls main() as `sailcdn serve` would. That keeps the test independent of
// how main wires things (only the command line is used) and needs no separate `go build`; under -race
// the server runs race-instrumented too.
const crashServerEnv = "SAILCDN_CRASH_TEST_SERVER"

// TestCrashServerProcess is not a test: it is the server process of TestCrashDurability.
func TestCrashServerProcess(t *testing.T) {
	if os.Getenv(crashServerEnv) != "1" {
		t.Skip("helper process of TestCrashDurability")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Args = append([]string{"sailcdn"}, args...)
	main()
	os.Exit(0)
}

// startCrashServer starts `sailcdn serve --dev` on dataDir.
func startCrashServer(t *testing.T, dataDir string) *serverProcess {
	t.Helper()
	return startServerProcess(t, "--data", dataDir, "--origin", "web=http://origin.localhost:8081/")
}

func crashClient(endpoint string) *lightsail.Client {
	return lightsail.New(lightsail.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
		// Retries off: a retried request could be acknowledged by the restarted server, not the killed one.
		Retryer:    aws.NopRetryer{},
		HTTPClient: &http.Client{Timeout: 20 * time.Second},
	})
}

// acked records the writes the killed server acknowledged with HTTP 200. Only these must survive;
// a write whose response was lost may or may not have been applied.
type acked struct {
	mu      sync.Mutex
	created map[string]bool
	tagged  map[string]string // distribution → value of tag "crash"
	bundled map[string]bool   // distribution → moved to medium_1_0
	ops     map[string]string // operation id → operation type
	n       int
	reached chan struct{} // closed when n reaches target
	target  int
}

func (a *acked) add(opID, opType string, record func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	record()
	a.ops[opID] = opType
	a.n++
	if a.n == a.target {
		close(a.reached)
	}
}

// TestCrashDurability kills the server with SIGKILL while several clients write through the real
// aws-sdk-go-v2 Lightsail client, restarts it on the same data directory and checks that every write it
// had acknowledged is there: a 200 means committed (the store commits before the response is written).
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	dataDir := t.TempDir()
	srv := startCrashServer(t, dataDir)
	client := crashClient(srv.endpoint)

	const workers = 4
	rec := &acked{
		created: map[string]bool{}, tagged: map[string]string{}, bundled: map[string]bool{}, ops: map[string]string{},
		reached: make(chan struct{}), target: 200,
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			crashWorker(t, client, w, rec)
		}()
	}
	// 200 writes take a few seconds on an idle machine; under go test -race at a load average of
	// ~20 on 2 cores only 173 were acknowledged in 30 s, so the bound is 90 s.
	const within = 90 * time.Second
	select {
	case <-rec.reached:
	case <-time.After(within):
		srv.kill()
		wg.Wait()
		t.Fatalf("only %d writes acknowledged in %s", rec.n, within)
	}
	// SIGKILL while the workers are still writing: some requests are in flight.
	err := srv.kill()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("server did not die of SIGKILL: %v", err)
	}
	wg.Wait()
	rec.mu.Lock() // workers are done; the lock only orders the reads after their writes
	defer rec.mu.Unlock()
	t.Logf("acknowledged before SIGKILL: %d creates, %d tags, %d bundle changes (%d writes)",
		len(rec.created), len(rec.tagged), len(rec.bundled), rec.n)

	srv2 := startCrashServer(t, dataDir)
	client2 := crashClient(srv2.endpoint)
	ctx := context.Background()
	found := listAllDistributions(t, client2)

	for name := range rec.created {
		if _, ok := found[name]; !ok {
			t.Errorf("acknowledged CreateDistribution %s lost", name)
		}
	}
	for name, value := range rec.tagged {
		d, ok := found[name]
		if !ok {
			continue // reported above
		}
		if got, ok := tagValue(d.Tags, "crash"); !ok || got != value {
			t.Errorf("acknowledged TagResource on %s lost: tags %v", name, d.Tags)
		}
	}
	for name := range rec.bundled {
		d, ok := found[name]
		if !ok {
			continue
		}
		if aws.ToString(d.BundleId) != "medium_1_0" || aws.ToBool(d.AbleToUpdateBundle) {
			t.Errorf("acknowledged UpdateDistributionBundle on %s lost: bundle %s, ableToUpdateBundle %v",
				name, aws.ToString(d.BundleId), aws.ToBool(d.AbleToUpdateBundle))
		}
	}
	for name := range found {
		if !strings.HasPrefix(name, "crash-") {
			t.Errorf("unexpected distribution %s after restart", name)
		}
	}
	for id, opType := range rec.ops {
		out, err := client2.GetOperation(ctx, &lightsail.GetOperationInput{OperationId: aws.String(id)})
		if err != nil {
			t.Errorf("acknowledged operation %s (%s): %v", id, opType, err)
			continue
		}
		if got := string(out.Operation.OperationType); got != opType {
			t.Errorf("operation %s: type %s, want %s", id, got, opType)
		}
	}

	// The restarted server keeps enforcing what it persisted (the bundle's billing cycle) and takes writes.
	for name := range rec.bundled {
		_, err := client2.UpdateDistributionBundle(ctx, &lightsail.UpdateDistributionBundleInput{
			DistributionName: aws.String(name), BundleId: aws.String("large_1_0"),
		})
		var invalid *types.InvalidInputException
		if !errors.As(err, &invalid) || aws.ToString(invalid.Code) != "BundleUpdateNotAllowed" {
			t.Errorf("second bundle change of %s in the same cycle after restart: %v, want BundleUpdateNotAllowed", name, err)
		}
		break
	}
	if _, err := client2.CreateDistribution(ctx, createInput("crash-after-restart")); err != nil {
		t.Errorf("create after restart: %v", err)
	}

	// A clean stop: SIGTERM shuts the restarted server down gracefully.
	if err := srv2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-srv2.done:
		srv2.done <- err
		if err != nil {
			t.Errorf("server exit after SIGTERM: %v\n%s", err, srv2.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("server did not stop within 15s of SIGTERM")
	}
	for i, s := range []*serverProcess{srv, srv2} {
		if strings.Contains(s.stderr.String(), "DATA RACE") {
			t.Errorf("server %d reported a data race:\n%s", i+1, s.stderr)
		}
	}
}

func createInput(name string) *lightsail.CreateDistributionInput {
	return &lightsail.CreateDistributionInput{
		DistributionName:     aws.String(name),
		BundleId:             aws.String("small_1_0"),
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting},
		Origin:               &types.InputOrigin{Name: aws.String("web"), RegionName: types.RegionNameUsEast1},
	}
}

// crashWorker creates distributions, tags them and changes their bundle until the server goes away.
func crashWorker(t *testing.T, client *lightsail.Client, w int, rec *acked) {
	ctx := context.Background()
	for i := 0; ; i++ {
		name := fmt.Sprintf("crash-w%d-%04d", w, i)
		created, err := client.CreateDistribution(ctx, createInput(name))
		if stop(t, "CreateDistribution", err) {
			return
		}
		rec.add(aws.ToString(created.Operation.Id), string(created.Operation.OperationType), func() { rec.created[name] = true })

		value := "v-" + name
		tagged, err := client.TagResource(ctx, &lightsail.TagResourceInput{
			ResourceName: aws.String(name),
			Tags:         []types.Tag{{Key: aws.String("crash"), Value: aws.String(value)}},
		})
		if stop(t, "TagResource", err) {
			return
		}
		rec.add(aws.ToString(tagged.Operations[0].Id), string(tagged.Operations[0].OperationType), func() { rec.tagged[name] = value })

		bundled, err := client.UpdateDistributionBundle(ctx, &lightsail.UpdateDistributionBundleInput{
			DistributionName: aws.String(name), BundleId: aws.String("medium_1_0"),
		})
		if stop(t, "UpdateDistributionBundle", err) {
			return
		}
		rec.add(aws.ToString(bundled.Operation.Id), string(bundled.Operation.OperationType), func() { rec.bundled[name] = true })
	}
}

// stop reports whether the worker must stop. A transport error (or a 200 cut short) is the kill; an
// error status the server sent is a bug, since every request here is valid.
func stop(t *testing.T, op string, err error) bool {
	if err == nil {
		return false
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 300 {
		t.Errorf("%s answered an error before the kill: %v", op, err)
	}
	return true
}

func listAllDistributions(t *testing.T, client *lightsail.Client) map[string]types.LightsailDistribution {
	t.Helper()
	found := map[string]types.LightsailDistribution{}
	var token *string
	for page := 0; ; page++ {
		// A page whose response cannot be read is asked for again (and logged), as in
		// listAfterRestart: with retries off, aws-sdk-go-v2 at times fails to read a 200 it was sent
		// ("use of closed network connection", docs/reliability.md finding 3; a CI run failed on
		// it here). What this test checks is that the acknowledged writes are there.
		var out *lightsail.GetDistributionsOutput
		err := wait.Poll(context.Background(), 30*time.Second, func() error {
			var err error
			out, err = client.GetDistributions(context.Background(), &lightsail.GetDistributionsInput{PageToken: token})
			if err != nil {
				t.Logf("GetDistributions after restart (asked again): %v", err)
			}
			return err
		})
		if err != nil {
			t.Fatalf("GetDistributions after restart: %v", err)
		}
		for _, d := range out.Distributions {
			name := aws.ToString(d.Name)
			if _, dup := found[name]; dup {
				t.Errorf("distribution %s listed twice", name)
			}
			found[name] = d
		}
		if token = out.NextPageToken; token == nil || page > 10000 {
			return found
		}
	}
}

func tagValue(tags []types.Tag, key string) (string, bool) {
	for _, tag := range tags {
		if aws.ToString(tag.Key) == key {
			return aws.ToString(tag.Value), true
		}
	}
	return "", false
}
