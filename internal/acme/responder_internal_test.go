package acme

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sailcdn/sailcdn/internal/store"
)

// The responder listens on the public internet (the ACME CA must reach it) and answers every query
// without authentication, so what a query may cost the store is bounded: only a name one label below
// the zone (where challenge answers live) is looked up, and only so many lookups run at once; the
// rest are answered SERVFAIL at once (resolvers retry) instead of queueing on the database.
func TestResponderBoundsWhatQueriesCostTheStore(t *testing.T) {
	const zone = "acme.sailcdn.test"
	db, err := store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "sailcdn.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := StartResponder(db, zone, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := db.PutACMEChallenge(context.Background(), "abc."+zone+".", "token-value", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ask := func(name string) *dns.Msg {
		t.Helper()
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeTXT)
		in, _, err := (&dns.Client{Net: "tcp"}).Exchange(q, r.TCPAddr.String())
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	if in := ask("abc." + zone + "."); len(in.Answer) != 1 {
		t.Fatalf("a published answer: %v", in)
	}

	// Every lookup slot taken: a query that needs the store is refused with SERVFAIL, not queued.
	for range cap(r.lookups) {
		r.lookups <- struct{}{}
	}
	if in := ask("abc." + zone + "."); in.Rcode != dns.RcodeServerFailure || len(in.Answer) != 0 {
		t.Errorf("with every lookup slot taken: %v, want SERVFAIL", in)
	}
	// A name deeper in the zone holds no challenge answer: NODATA without a lookup, even now.
	if in := ask("x.abc." + zone + "."); in.Rcode != dns.RcodeSuccess || len(in.Answer) != 0 || len(in.Ns) != 1 {
		t.Errorf("a name two labels below the zone: %v, want NODATA", in)
	}
	for range cap(r.lookups) {
		<-r.lookups
	}
	if in := ask("abc." + zone + "."); len(in.Answer) != 1 {
		t.Errorf("with the slots free again: %v", in)
	}
}
