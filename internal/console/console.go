// Package console is sailcdn's web console: static pages, served at /console/ on the API port, through
// which a Lightsail customer sees and manages the distributions of their own account. The page signs
// every call itself with SigV4 in the browser and calls the same JSON API at POST / as every SDK, so
// the console has no privileges, sessions or rules of its own.
//
// # Where the secret key lives
//
// The user signs in with an access key id and secret access key. The page keeps them in
// sessionStorage: per tab, gone when the tab closes, never sent anywhere (only signatures derived from
// the secret leave the page). The trade-off: any script running in the console's origin could read
// the secret, so the console runs no third-party or inline script and the Content-Security-Policy
// below forbids both. localStorage would survive the browser (a stolen laptop keeps the key) and a
// cookie would ride along with every request, so neither is used. Serving the console on a shared
// origin with other applications would weaken this; it is served on the API port only.
//
// WebCrypto, which the signer needs, exists only in secure contexts: the console works over HTTPS or
// on a loopback address (http://127.0.0.1, http://localhost), and says so otherwise.
//
// # Whose clock
//
// Billing cycles run on the server's clock. The page takes "now" from the Date header of the API's
// answers (wall time on a production server). The date a refused bundle change becomes possible is
// read from the server itself: the cycle after the distribution's last UpdateDistributionBundle
// operation, whose createdAt the server stamped; that stays right when sailcdn --dev has moved the
// server clock away from wall time.
//
// # Charts
//
// Charts are hand-written inline SVG (charts.js): no library, no network, each chart with a <title>,
// a <desc> summary and a data table fallback for screen readers.
//
// docs/console.png is the end-to-end test's screenshot:
//
//	go test ./internal/console -run TestConsoleEndToEnd -args -console.screenshot=../../docs/console.png
package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Prefix is the path the console is served under.
const Prefix = "/console/"

//go:embed static
var static embed.FS

// contentSecurityPolicy allows only the console's own scripts and styles, and network access only to
// its own origin (the API at POST /). No inline script or style, no eval, no frames, no forms posting
// anywhere: the secret access key in sessionStorage is readable only by code this package serves.
// CSP Level 3 (https://www.w3.org/TR/CSP3/): 'none' for default-src makes every other fetch directive
// (fonts, media, workers, objects, frames) refuse by default.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the console's static files under Prefix. The files need no authentication: they
// hold no data; everything the page shows comes from signed API calls.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		// The embed directive above guarantees the directory; failing here is a build mistake.
		panic("console: " + err.Error())
	}
	fileServer := http.StripPrefix(Prefix, http.FileServerFS(files))
	etags := entityTags(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		// Revalidate every time: an upgraded server must not keep running an old script against a
		// new API. The files are small and answer 304 when unchanged.
		h.Set("Cache-Control", "no-cache")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if name == "" {
			name = "index.html"
		}
		if tag, ok := etags[path.Clean(name)]; ok {
			// Embedded files have no modification time, so validation needs an entity tag;
			// http.ServeContent then answers If-None-Match with 304 (RFC 9110 §13.1.2).
			h.Set("ETag", tag)
		}
		fileServer.ServeHTTP(w, r)
	})
}

// entityTags maps every embedded file to a strong entity tag of its content.
func entityTags(files fs.FS) map[string]string {
	tags := map[string]string{}
	_ = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		tags[name] = `"` + hex.EncodeToString(sum[:16]) + `"`
		return nil
	})
	return tags
}
