package app_test

import (
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The CA's root is public: GET /_sailcdn/ca.pem answers without authentication, also outside --dev,
// and is the root the env's certificates chain to.
func TestCAPEMIsPublic(t *testing.T) {
	e := productionEnv(t)
	resp, err := http.Get(e.API.URL + "/_sailcdn/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-pem-file" {
		t.Fatalf("GET /_sailcdn/ca.pem: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	block, rest := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("not a PEM certificate: %q", body)
	}
	// The root certificate and nothing else: no key, no other block.
	if extra, _ := pem.Decode(rest); extra != nil || strings.Contains(string(body), "PRIVATE KEY") {
		t.Fatalf("GET /_sailcdn/ca.pem serves more than the root certificate: %q", body)
	}
	root, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !root.IsCA || !root.Equal(e.CA.Root()) {
		t.Fatalf("served root %v, %v", root, err)
	}
	if bytes := string(body); len(bytes) == 0 || bytes != string(e.CA.RootPEM()) {
		t.Fatal("served PEM differs from the CA's")
	}
	// Other admin endpoints still need an admin signature.
	r2, err := http.Get(e.API.URL + "/_sailcdn/clock")
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode == http.StatusOK {
		t.Errorf("unsigned /_sailcdn/clock outside --dev: %d", r2.StatusCode)
	}
	// POST is not served.
	r3, err := http.Post(e.API.URL+"/_sailcdn/ca.pem", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	r3.Body.Close()
	if r3.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /_sailcdn/ca.pem: %d, want 405", r3.StatusCode)
	}
}
