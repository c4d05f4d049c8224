package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// `sailcdn ca export` prints, from the store, the root the running server publishes at
// /_sailcdn/ca.pem.
func TestCAExportPrintsTheServedRoot(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := caCmd([]string{"export", "--data", dir}, &out); err == nil || !strings.Contains(err.Error(), "start sailcdn serve once") {
		t.Fatalf("export before any start: %v", err)
	}
	s := startCrashServer(t, dir)
	resp, err := http.Get(s.endpoint + "/_sailcdn/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := caCmd([]string{"export", "--data", dir}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "-----BEGIN CERTIFICATE-----") || out.String() != string(served) {
		t.Fatalf("ca export printed %q; the server publishes %q", out.String(), served)
	}
}
