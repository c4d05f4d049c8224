package admin

import (
	"errors"
	"net/http"

	"github.com/sailcdn/sailcdn/internal/auth"
	"github.com/sailcdn/sailcdn/internal/loopback"
	"github.com/sailcdn/sailcdn/internal/sigv4"
)

// Access decides who may use the admin-only endpoints (/_sailcdn/, /metrics).
type Access struct {
	// Dev opens them to every request addressed to a loopback name (developer mode, in which the
	// server listens on loopback only). A DNS-rebinding page reaches loopback too, but arrives with
	// its own host name, so the Host field is what is checked.
	Dev bool
	// Verifier checks signatures outside Dev: a request must be SigV4-signed (service "lightsail", any
	// region) by a key of Keyring whose profile has sailcdn_admin = true; curl signs with
	// --aws-sigv4 "aws:amz:us-east-1:lightsail".
	Verifier *sigv4.Verifier
	Keyring  *auth.Keyring
}

var (
	// errNotLoopback refuses a --dev admin request addressed to a non-loopback host name.
	errNotLoopback = errors.New("in --dev the admin endpoints answer only requests addressed to localhost or a loopback address")
	// errAdminOnly refuses a valid signature by a key without sailcdn_admin.
	errAdminOnly = errors.New("this access key may not use the admin endpoints (set sailcdn_admin = true on its profile)")
)

// Authorize returns nil if r (with its body, which the signature covers) may use the admin
// endpoints; otherwise an AWS-shaped error: SigV4's own for a signature problem, AccessDenied for
// anything else.
func (a *Access) Authorize(r *http.Request, body []byte) error {
	if a.Dev {
		if !loopback.Is(r.Host) {
			return accessDenied(errNotLoopback)
		}
		return nil
	}
	cred, err := a.Verifier.Verify(r, body)
	if err != nil {
		return err
	}
	if k, ok := a.Keyring.Lookup(cred.AccessKeyID); !ok || !k.Admin {
		return accessDenied(errAdminOnly)
	}
	return nil
}
