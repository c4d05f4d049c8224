package sailtest

import (
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/sailcdn/sailcdn/internal/acme"
)

// DNS is a test resolver on a loopback port (UDP and TCP): it answers the CNAME records a test sets, and for
// names under a delegated zone it follows CNAMEs and asks the zone's server, as a recursive
// resolver would (so an ACME CA pointed at it reads TXT records through _acme-challenge CNAMEs).
type DNS struct {
	Addr string // host:port

	mu       sync.Mutex
	cnames   map[string]string // fqdn (lower case) → target fqdn
	zone     string            // delegated zone (fqdn), "" for none
	zoneAddr string            // its authoritative server
}

// StartDNS starts a test resolver, stopped when the test ends.
func StartDNS(t testing.TB) *DNS {
	t.Helper()
	d := &DNS{cnames: map[string]string{}}
	// UDP and TCP on one port: some clients (pebble's validator) ask over TCP.
	srv, err := acme.ServeDNS("127.0.0.1:0", dns.HandlerFunc(d.serve), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	d.Addr = srv.UDPAddr.String()
	return d
}

// SetCNAME makes name a CNAME for target.
func (d *DNS) SetCNAME(name, target string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cnames[strings.ToLower(dns.Fqdn(name))] = strings.ToLower(dns.Fqdn(target))
}

// Delegate sends questions for names under zone to the server at addr.
func (d *DNS) Delegate(zone, addr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.zone, d.zoneAddr = strings.ToLower(dns.Fqdn(zone)), addr
}

func (d *DNS) serve(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	if len(q.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	question := q.Question[0]
	name := strings.ToLower(question.Name)
	d.mu.Lock()
	zone, zoneAddr := d.zone, d.zoneAddr
	// Follow CNAMEs (at most a few), answering each.
	for range 8 {
		target, ok := d.cnames[name]
		if !ok {
			break
		}
		m.Answer = append(m.Answer, &dns.CNAME{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 0}, Target: target})
		if question.Qtype == dns.TypeCNAME {
			break
		}
		name = target
	}
	d.mu.Unlock()
	if question.Qtype != dns.TypeCNAME && zone != "" && dns.IsSubDomain(zone, name) {
		fq := new(dns.Msg)
		fq.SetQuestion(name, question.Qtype)
		if in, err := dns.Exchange(fq, zoneAddr); err == nil {
			m.Answer = append(m.Answer, in.Answer...)
			if len(m.Answer) == 0 {
				m.Rcode = in.Rcode
			}
		} else {
			m.Rcode = dns.RcodeServerFailure
		}
	} else if len(m.Answer) == 0 {
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}
