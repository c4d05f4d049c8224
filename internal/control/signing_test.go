package control_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/sailtest"
)

// TestOperationIsSigned: a request whose signature does not cover X-Amz-Target (a client that signs
// only host and x-amz-date, or a captured request) cannot be replayed as another operation. Before the
// fix, a signed GetDistributions with the target header swapped deleted the distribution.
func TestOperationIsSigned(t *testing.T) {
	e := sailtest.New(t)
	e.AddOrigin("web-1", "http://127.0.0.1:9/", "Instance", "us-east-1")
	c := e.Client(sailtest.Alice, "us-east-1")
	mustCreate(t, c, "keep-me")

	body := []byte(`{"distributionName": "keep-me"}`)
	req, err := http.NewRequest(http.MethodPost, e.API.URL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sailtest.Sign(t, req, body, sailtest.Alice, "us-east-1", time.Now()) // signs host, x-amz-date, content-type
	req.Header.Set("X-Amz-Target", "Lightsail_20161128.DeleteDistribution")
	r := sailtest.Do(t, req)
	m := r.JSON(t)
	if r.Status != 403 || m["__type"] != "InvalidSignatureException" || m["message"] != "'x-amz-target' must be a 'SignedHeader' in the AWS Authorization." {
		t.Errorf("unsigned X-Amz-Target: %d %s", r.Status, r.Body)
	}
	getOne(t, c, "keep-me") // still there
}
