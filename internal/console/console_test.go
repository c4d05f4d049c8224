package console

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, method, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec
}

func TestHandlerServesTheStaticFiles(t *testing.T) {
	cases := []struct {
		name, method, path string
		status             int
		contentType        string // prefix
		bodyHas            string
	}{
		{"index", http.MethodGet, "/console/", 200, "text/html", `<script type="module" src="app.js">`},
		{"script", http.MethodGet, "/console/app.js", 200, "text/javascript", "GetDistributions"},
		{"signer", http.MethodGet, "/console/sigv4.js", 200, "text/javascript", "AWS4-HMAC-SHA256"},
		{"style", http.MethodGet, "/console/console.css", 200, "text/css", ":root"},
		{"head", http.MethodHead, "/console/app.js", 200, "text/javascript", ""},
		{"index.html redirects to the directory", http.MethodGet, "/console/index.html", 301, "", ""},
		{"unknown file", http.MethodGet, "/console/secrets.json", 404, "", ""},
		{"outside the prefix", http.MethodGet, "/other", 404, "", ""},
		{"traversal", http.MethodGet, "/console/../go.mod", 404, "", ""},
		{"post", http.MethodPost, "/console/", 405, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(t, tc.method, tc.path, nil)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			// Every answer carries the policy, errors included.
			if got := rec.Header().Get("Content-Security-Policy"); got != contentSecurityPolicy {
				t.Errorf("CSP %q", got)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff")
			}
			if tc.contentType != "" && !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.contentType) {
				t.Errorf("Content-Type %q, want %s", rec.Header().Get("Content-Type"), tc.contentType)
			}
			if tc.bodyHas != "" && !strings.Contains(rec.Body.String(), tc.bodyHas) {
				t.Errorf("body lacks %q", tc.bodyHas)
			}
			if tc.status == 405 && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q", rec.Header().Get("Allow"))
			}
		})
	}
}

func TestHandlerRevalidatesWithEntityTags(t *testing.T) {
	first := serve(t, http.MethodGet, "/console/app.js", nil)
	tag := first.Header().Get("ETag")
	if tag == "" || first.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", tag, first.Header().Get("Cache-Control"))
	}
	if again := serve(t, http.MethodGet, "/console/app.js", http.Header{"If-None-Match": {tag}}); again.Code != http.StatusNotModified {
		t.Errorf("If-None-Match with the current tag: %d, want 304", again.Code)
	}
	if other := serve(t, http.MethodGet, "/console/console.css", http.Header{"If-None-Match": {tag}}); other.Code != http.StatusOK {
		t.Errorf("another file's tag: %d, want 200", other.Code)
	}
	if idx := serve(t, http.MethodGet, "/console/", nil); idx.Header().Get("ETag") == "" {
		t.Error("the index has no ETag")
	}
}

// TestStaticFilesStayLightAndOffline: the page must work without network access beyond its own
// origin (no CDN-hosted script, style or font) and stay small.
func TestStaticFilesStayLightAndOffline(t *testing.T) {
	const budget = 100 << 10
	total := 0
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//|@import|url\(\s*["']?(https?:)?//|\bimport\b[^;\n]*from\s*["'](https?:)?//`)
	imports := regexp.MustCompile(`\bfrom\s*"(\./[^"]+)"|import\("([^"]+)"\)`)
	err := fs.WalkDir(static, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, name)
		if err != nil {
			return err
		}
		total += len(b)
		if m := external.Find(b); m != nil {
			t.Errorf("%s loads something from another origin: %s", name, m)
		}
		for _, m := range imports.FindAllStringSubmatch(string(b), -1) {
			if m[1] == "" {
				continue
			}
			target := strings.TrimPrefix(m[1], "./")
			if _, err := fs.Stat(static, "static/"+target); err != nil {
				t.Errorf("%s imports %q, which is not embedded", name, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total > budget {
		t.Errorf("static files weigh %d bytes, budget %d", total, budget)
	}
	t.Logf("static files: %d bytes", total)
}
