package edge

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
)

// HTTPRedirect modes: which plain-HTTP requests the edge redirects to HTTPS.
const (
	// RedirectCertificate redirects every request for a distribution that has a certificate
	// attached (the default): once a custom domain has HTTPS, viewers are sent to it, the way
	// Lightsail's distributions (CloudFront with "Redirect HTTP to HTTPS") treat them; a distribution
	// without one keeps answering plain HTTP on its default domain name.
	RedirectCertificate = "certificate"
	// RedirectAlways redirects every request for a known distribution.
	RedirectAlways = "always"
	// RedirectNever serves plain HTTP as it is.
	RedirectNever = "never"
)

func checkRedirect(mode string) error {
	switch mode {
	case "", RedirectCertificate, RedirectAlways, RedirectNever:
		return nil
	}
	return fmt.Errorf("edge: HTTPRedirect %q is not one of %s, %s, %s", mode, RedirectCertificate, RedirectAlways, RedirectNever)
}

// SetHTTPSPort sets the TLS port redirects point to, once it is known (a port chosen at listen time);
// 0 turns redirects off.
func (e *Edge) SetHTTPSPort(port int) { e.httpsPort.Store(int32(port)) }

// redirectsToHTTPS reports whether a plain-HTTP request for d is redirected.
func (e *Edge) redirectsToHTTPS(d *distribution) bool {
	if e.httpsPort.Load() == 0 {
		return false
	}
	switch e.redirect {
	case RedirectNever:
		return false
	case RedirectAlways:
		return true
	default:
		return d.certificateName != ""
	}
}

// writeRedirect sends the viewer to the same URL over HTTPS: 301 for GET and HEAD (what CloudFront
// sends), 308 for other methods, which keeps the method and body (RFC 9110 §15.4.9).
func (e *Edge) writeRedirect(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if port := int(e.httpsPort.Load()); port != 443 {
		host = net.JoinHostPort(host, strconv.Itoa(port))
	}
	code := http.StatusMovedPermanently
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		code = http.StatusPermanentRedirect
	}
	target := "https://" + host + r.URL.RequestURI()
	h := w.Header()
	h["Location"] = []string{target}
	h["Content-Length"] = []string{"0"}
	h["X-Cache"] = []string{"Redirect from sailcdn"}
	w.WriteHeader(code)
}
