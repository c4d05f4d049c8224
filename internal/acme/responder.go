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
type Responder struct {
	db               *store.DB
	zone             string // fqdn, lower case
	log              *slog.Logger
	now              func() time.Time
	udp              *dns.Server
	tcp              *dns.Server
	UDPAddr, TCPAddr net.Addr
}

// StartResponder listens on addr (UDP and TCP, the same port) and answers for zone until Close.
func StartResponder(db *store.DB, zone, addr string, logger *slog.Logger) (*Responder, error) {
	if logger == nil {
		logger = slog.Default()
	}
	r := &Responder{db: db, zone: strings.ToLower(dns.Fqdn(zone)), log: logger, now: time.Now}
	pc, ln, err := listenUDPAndTCP(addr)
	if err != nil {
		return nil, err
	}
	r.UDPAddr, r.TCPAddr = pc.LocalAddr(), ln.Addr()
	r.udp = &dns.Server{PacketConn: pc, Handler: r}
	r.tcp = &dns.Server{Listener: ln, Handler: r}
	for _, s := range []*dns.Server{r.udp, r.tcp} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go func() {
			if err := s.ActivateAndServe(); err != nil {
				logger.Warn("acme: DNS responder stopped", "err", err)
			}
		}()
		<-started
	}
	return r, nil
}

// Close stops the responder.
func (r *Responder) Close() error {
	return errors.Join(r.udp.Shutdown(), r.tcp.Shutdown())
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
	case question.Qtype == dns.TypeTXT && name != r.zone:
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		values, err := r.db.ACMEChallenges(ctx, name, r.now())
		cancel()
		if err != nil {
			r.log.Warn("acme: DNS responder could not read challenges", "name", name, "err", err)
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

// ListenUDPAndTCP is listenUDPAndTCP for tests' DNS servers (internal/sailtest).
func ListenUDPAndTCP(addr string) (net.PacketConn, net.Listener, error) { return listenUDPAndTCP(addr) }
