package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// serverProcess is one running `sailcdn serve` child process: the test binary re-executed into
// TestCrashServerProcess (crash_test.go), so the binary is built once per test run, and under -race the
// servers run race-instrumented too.
type serverProcess struct {
	role     string
	cmd      *exec.Cmd
	endpoint string        // "http://" + the API address; "" for edge nodes
	edge     string        // host:port of the edge; "" for API nodes
	tls      string        // host:port of the edge's TLS port; "" for API nodes
	admin    string        // host:port of an edge node's admin port
	stderr   *bytes.Buffer // written by os/exec's copier; read only after Wait
	done     chan error    // receives Wait's result once
}

// startServerProcess starts `sailcdn serve --dev` (role all) with the given store and origin flags.
func startServerProcess(t *testing.T, flags ...string) *serverProcess {
	t.Helper()
	return startNode(t, "all", flags...)
}

// startNode starts `sailcdn serve --dev --role role` with flags and waits until it serves. A port
// picked free can be taken before the child binds it, so a start that fails is retried on fresh ports.
func startNode(t *testing.T, role string, flags ...string) *serverProcess {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s := launchNode(t, role, flags...)
		err := s.waitReady(30 * time.Second)
		if err == nil {
			return s
		}
		s.kill()
		if attempt == 3 {
			t.Fatalf("%s node did not start: %v\n%s", role, err, s.stderr)
		}
	}
}

// launchNode starts the process and returns at once (waitReady waits for it).
func launchNode(t *testing.T, role string, flags ...string) *serverProcess {
	t.Helper()
	addrs := sailtest.FreeAddrs(t, 3)
	s := &serverProcess{role: role, stderr: new(bytes.Buffer), done: make(chan error, 1)}
	args := []string{"-test.run=^TestCrashServerProcess$", "--",
		"serve", "--dev", "--role", role,
		"--max-distributions", "100000",
		"--deploy-delay", "1s",
		"--log-level", "warn"}
	switch role {
	case "edge":
		s.edge, s.admin, s.tls = addrs[0], addrs[1], addrs[2]
		args = append(args, "--edge-addr", s.edge, "--admin-addr", s.admin, "--edge-tls-addr", s.tls)
	case "api":
		s.endpoint = "http://" + addrs[0]
		args = append(args, "--api-addr", addrs[0])
	default:
		s.endpoint, s.edge, s.tls = "http://"+addrs[0], addrs[1], addrs[2]
		args = append(args, "--api-addr", addrs[0], "--edge-addr", s.edge, "--edge-tls-addr", s.tls)
	}
	s.cmd = exec.Command(os.Args[0], append(args, flags...)...)
	s.cmd.Env = append(os.Environ(), crashServerEnv+"=1")
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.kill() })
	return s
}

// waitReady polls until the node answers: the admin clock endpoint of nodes with an API port (it
// answers once the API listener is up), /healthz on an edge node's admin port.
func (s *serverProcess) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	url := s.endpoint + "/_sailcdn/clock"
	if s.role == "edge" {
		url = "http://" + s.admin + "/healthz"
	}
	return wait.Poll(context.Background(), timeout, func() error {
		if err := s.exited(); err != nil {
			return err
		}
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s answers %d", url, resp.StatusCode)
		}
		return nil
	})
}

// exited returns an error if the process has exited.
func (s *serverProcess) exited() error {
	select {
	case err := <-s.done:
		s.done <- err
		return fmt.Errorf("server exited: %v", err)
	default:
		return nil
	}
}

// kill SIGKILLs the server (no-op once it has exited) and returns Wait's result.
func (s *serverProcess) kill() error {
	if err := s.exited(); err != nil {
		return <-s.waitDone()
	}
	_ = s.cmd.Process.Kill()
	return <-s.waitDone()
}

// stop SIGTERMs the server and waits for it: a graceful shutdown.
func (s *serverProcess) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.waitDone():
		if err != nil {
			t.Errorf("%s node exit after SIGTERM: %v\n%s", s.role, err, s.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("%s node did not stop within 20s of SIGTERM", s.role)
	}
}

// waitDone returns a channel with Wait's result, leaving it for later callers too.
func (s *serverProcess) waitDone() <-chan error {
	c := make(chan error, 1)
	go func() {
		err := <-s.done
		s.done <- err
		c <- err
	}()
	return c
}

// checkNoRace fails t if the (exited) server reported a data race.
func (s *serverProcess) checkNoRace(t *testing.T) {
	t.Helper()
	if strings.Contains(s.stderr.String(), "DATA RACE") {
		t.Errorf("%s node reported a data race:\n%s", s.role, s.stderr)
	}
}
