package acme

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/sailcdn/sailcdn/internal/store"
)

// Responder is the authoritative DNS server of the ACME zone: it answers TXT queries for
// <label>.<zone> with the challenge answers in the store, and SOA/NS for the zone itself. It refuses
// names outside the zone (it is no resolver).
//
// It listens where the ACME CA can reach it — usually the public internet — and answers anyone, so
// what a query costs the store is bounded: only a name one label below the zone is looked up (no
// other name holds a challenge answer), and at most maxLookups lookups run at once; a query beyond
// that is answered SERVFAIL at once (resolvers retry) rather than queued on the database.
type Responder struct {
	*DNSServer // where it listens; Close stops it
	db         *store.DB
	zone       string // fqdn, lower case
	log        *slog.Logger
	now        func() time.Time
	lookups    chan struct{} // a slot per store lookup in progress
}

// maxLookups bounds the responder's concurrent store lookups. An ACME order asks for a handful of
// names, each a few times (the CA validates from several vantage points).
const maxLookups = 16

// StartResponder listens on addr (UDP and TCP, the same port) and answers for zone until Close.
func StartResponder(db *store.DB, zone, addr string, logger *slog.Logger) (*Responder, error) {
	if logger == nil {
		logger = slog.Default()
	}
	r := &Responder{db: db, zone: strings.ToLower(dns.Fqdn(zone)), log: logger, now: time.Now, lookups: make(chan struct{}, maxLookups)}
	srv, err := ServeDNS(addr, r, logger)
	if err != nil {
		return nil, err
	}
	r.DNSServer = srv
	return r, nil
}

// DNSServer is a DNS handler served on one port over UDP and TCP.
type DNSServer struct {
	UDPAddr, TCPAddr net.Addr
	servers          []*dns.Server
}

// ServeDNS serves h on addr over UDP and TCP (one port; with port 0 one both can take) until Close.
// Failures after the start are logged.
func ServeDNS(addr string, h dns.Handler, logger *slog.Logger) (*DNSServer, error) {
	pc, ln, err := listenUDPAndTCP(addr)
	if err != nil {
		return nil, err
	}
	s := &DNSServer{UDPAddr: pc.LocalAddr(), TCPAddr: ln.Addr(),
		servers: []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}}}
	for _, srv := range s.servers {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() {
			if err := srv.ActivateAndServe(); err != nil && logger != nil {
				logger.Warn("DNS server stopped", "addr", s.UDPAddr.String(), "err", err)
			}
		}()
		<-started
	}
	return s, nil
}

// Close stops the server.
func (s *DNSServer) Close() error {
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.Shutdown())
	}
	return errors.Join(errs...)
}

// ttl of every answer: challenge answers change from one order to the next.
const ttl = 1

func (r *Responder) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	if len(q.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	question := q.Question[0]
	name := strings.ToLower(question.Name)
	if !dns.IsSubDomain(r.zone, name) {
		m.Rcode = dns.RcodeRefused
		_ = w.WriteMsg(m)
		return
	}
	m.Authoritative = true
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: question.Name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
	}
	soa := &dns.SOA{Hdr: dns.RR_Header{Name: r.zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
		Ns: "ns." + r.zone, Mbox: "hostmaster." + r.zone, Serial: uint32(r.now().Unix()), Refresh: 60, Retry: 60, Expire: 86400, Minttl: ttl}
	switch {
	case question.Qtype == dns.TypeTXT && r.isLabel(name):
		values, err := r.challenges(name)
		if err != nil {
			m.Rcode = dns.RcodeServerFailure
			break
		}
		for _, v := range values {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: hdr(dns.TypeTXT), Txt: []string{v}})
		}
	case question.Qtype == dns.TypeSOA && name == r.zone:
		m.Answer = append(m.Answer, soa)
	case question.Qtype == dns.TypeNS && name == r.zone:
		m.Answer = append(m.Answer, &dns.NS{Hdr: hdr(dns.TypeNS), Ns: "ns." + r.zone})
	}
	if len(m.Answer) == 0 && m.Rcode == dns.RcodeSuccess {
		m.Ns = append(m.Ns, soa) // NODATA: the SOA says for how long to remember (RFC 2308 §2.2)
	}
	_ = w.WriteMsg(m)
}

// isLabel reports whether name (lower case, fully qualified, in the zone) is one label below the
// zone: where challenge answers are published (acme.Issuer publishes <label>.<zone>).
func (r *Responder) isLabel(name string) bool {
	label, ok := strings.CutSuffix(name, "."+r.zone)
	return ok && label != "" && !strings.Contains(label, ".")
}

// errBusy is a lookup refused because maxLookups are in progress.
var errBusy = errors.New("acme: DNS responder: too many lookups in progress")

// challenges reads name's challenge answers from the store, if a lookup slot is free.
func (r *Responder) challenges(name string) ([]string, error) {
	select {
	case r.lookups <- struct{}{}:
		defer func() { <-r.lookups }()
	default:
		return nil, errBusy
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	values, err := r.db.ACMEChallenges(ctx, name, r.now())
	if err != nil {
		r.log.Warn("acme: DNS responder could not read challenges", "name", name, "err", err)
	}
	return values, err
}

// listenUDPAndTCP listens on addr with UDP and TCP, on one port. With port 0 the port UDP got may be
// taken for TCP; a few other ports are tried then.
func listenUDPAndTCP(addr string) (net.PacketConn, net.Listener, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	for attempt := 0; ; attempt++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if port != "0" || attempt == 10 {
			return nil, nil, err
		}
	}
}
