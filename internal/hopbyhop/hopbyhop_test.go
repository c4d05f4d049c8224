package hopbyhop

import (
	"net/http"
	"slices"
	"testing"
)

func TestListedReadsEveryConnectionLine(t *testing.T) {
	h := http.Header{"Connection": {"keep-alive, x-one", " ,X-Two ,", "upgrade"}}
	if got, want := Listed(h), []string{"Keep-Alive", "X-One", "X-Two", "Upgrade"}; !slices.Equal(got, want) {
		t.Fatalf("Listed = %q, want %q", got, want)
	}
	if Listed(http.Header{}) != nil {
		t.Fatal("no Connection field lists nothing")
	}
	for _, f := range []string{"Connection", "Te", "Proxy-Authentication-Info", "Transfer-Encoding"} {
		if !Is(f) {
			t.Errorf("%s is hop-by-hop", f)
		}
	}
	if Is("Authorization") || Is("Cache-Control") {
		t.Error("end-to-end fields are not hop-by-hop")
	}
}
