package admin

import "net/http"

// caPEM serves the CA's root certificate. It is public — viewers add it to their trust stores
// (curl --cacert, the OS store) — so the route is open, also outside --dev.
func caPEM(root []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Header().Set("Content-Disposition", `attachment; filename="sailcdn-ca.pem"`)
		_, _ = w.Write(root)
	})
}
