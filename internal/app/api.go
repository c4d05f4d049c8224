package app

import (
	"context"
	"net/http"

	"github.com/sailcdn/sailcdn/internal/auth"
	"github.com/sailcdn/sailcdn/internal/awsjson"
	"github.com/sailcdn/sailcdn/internal/control"
	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/sigv4"
	"github.com/sailcdn/sailcdn/internal/store"
)

// newVerifier checks SigV4 against keys. Its clock is the wall clock: clients sign with real time,
// whatever the server clock has been moved to.
func newVerifier(keys *auth.Keyring) *sigv4.Verifier {
	return &sigv4.Verifier{
		Service: "lightsail",
		Lookup: func(id string) (string, string, bool) {
			k, ok := keys.Lookup(id)
			return k.Secret, k.AccountID, ok
		},
	}
}

// newLightsailAPI serves the Lightsail API (POST /, AWS JSON 1.1) over ctl, authenticating every
// request with v.
func newLightsailAPI(ctl *control.Service, v *sigv4.Verifier, n *Node) http.Handler {
	return &awsjson.Server{
		TargetPrefix: lightsail.TargetPrefix,
		ServiceName:  "Lightsail",
		Handlers:     lightsail.Handlers(ctl),
		Known:        lightsail.AllOperations,
		Authenticate: func(r *http.Request, body []byte) (context.Context, error) {
			cred, err := v.Verify(r, body)
			if err != nil {
				return nil, err
			}
			return control.WithCaller(r.Context(), control.Caller{
				AccountID:   cred.AccountID,
				Region:      cred.Region,
				AccessKeyID: cred.AccessKeyID,
			}), nil
		},
		Internal: func(err error) awsjson.APIError {
			switch n.cfg.Store.Disk(err) {
			case store.DiskFull:
				return lightsail.Errorf(lightsail.ServiceFailure, "StoreFull",
					"The service's database is out of disk space: changes cannot be saved until space is freed. Reads and viewer traffic go on; a change answered with this error was not applied.").
					WithTip("Free space in the data directory (--data); writes succeed again without a restart.")
			case store.DiskReadOnly:
				return lightsail.Errorf(lightsail.ServiceFailure, "StoreReadOnly",
					"The service's database is on a read-only filesystem: changes cannot be saved. Reads and viewer traffic go on; a change answered with this error was not applied.").
					WithTip("Make the data directory (--data) writable again (after a disk error: repair the filesystem and restart the node).")
			}
			if store.Unavailable(err) {
				// The database is restarting or out of reach: say so, so that a client (and its
				// operator) knows to retry rather than to look for a bug. Every SDK retries a 500.
				return lightsail.Errorf(lightsail.ServiceFailure, "StoreUnavailable",
					"The service cannot reach its database at the moment. Try again in a few seconds; a change answered with this error may or may not have been applied, so read it back before repeating it.").
					WithTip("Retry with backoff; the service recovers by itself when its database is back.")
			}
			return lightsail.Errorf(lightsail.ServiceFailure, "InternalError", "An internal error occurred. Try again later.")
		},
		Logger: n.log,
	}
}
