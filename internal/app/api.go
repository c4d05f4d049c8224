package app

import (
	"context"
	"net/http"

	"github.com/sailcdn/sailcdn/internal/auth"
	"github.com/sailcdn/sailcdn/internal/awsjson"
	"github.com/sailcdn/sailcdn/internal/control"
	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/sigv4"
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
		Internal: func(error) awsjson.APIError {
			return lightsail.Errorf(lightsail.ServiceFailure, "InternalError", "An internal error occurred. Try again later.")
		},
		Logger: n.log,
	}
}
