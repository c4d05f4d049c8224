package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/http2"
)

// CertificateSource gives the edge the certificates it serves (internal/ca.Certificates).
type CertificateSource interface {
	// Default is the certificate of the distributions' own domain names (*.<edge domain>).
	Default(ctx context.Context) (*tls.Certificate, error)
	// Certificate is the issued certificate the account's distributions attach under name.
	Certificate(ctx context.Context, accountID, name string) (*tls.Certificate, error)
}

// tlsPolicy is what a viewerMinimumTlsProtocolVersion allows: the lowest protocol version and the
// TLS 1.2/1.1 cipher suites.
//
// The suites are those of the CloudFront security policies of the same names ("Supported protocols
// and ciphers between viewers and CloudFront", CloudFront Developer Guide) that crypto/tls implements,
// restricted to ECDSA, since every certificate sailcdn serves has an ECDSA P-256 key (the RSA rows of
// the table need an RSA certificate). What crypto/tls cannot express, and so differs from CloudFront:
//   - ECDHE-ECDSA-AES256-SHA384 (TLSv1.1_2016, TLSv1.2_2018, TLSv1.2_2019) is not implemented by Go;
//   - TLS 1.3 suites are not configurable; Go offers all three (AES-128-GCM, AES-256-GCM,
//     ChaCha20-Poly1305), which is exactly what all four policies allow;
//   - CloudFront picks the first suite of its list that the viewer offers; Go orders suites itself
//     (AES-GCM first where the hardware has AES, else ChaCha20) and ignores configured order.
type tlsPolicy struct {
	min    uint16
	suites []uint16
}

var tlsPolicies = map[string]tlsPolicy{
	"TLSv1.1_2016": {min: tls.VersionTLS11, suites: []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	}},
	"TLSv1.2_2018": {min: tls.VersionTLS12, suites: []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	}},
	"TLSv1.2_2019": {min: tls.VersionTLS12, suites: []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	}},
	"TLSv1.2_2021": {min: tls.VersionTLS12, suites: []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	}},
}

// defaultTLSPolicy applies to distributions stored without viewerMinimumTlsProtocolVersion; it is
// what CreateDistribution stores when none is given (docs/decisions.md).
const defaultTLSPolicy = "TLSv1.2_2021"

// handshakeTimeout bounds a viewer's TLS handshake, as ReadHeaderTimeout bounds its first request.
const handshakeTimeout = 10 * time.Second

// tlsHosts is the TLS view of one configuration snapshot: the handshake configuration per host name.
type tlsHosts struct {
	generation int64
	byHost     map[string]*hostTLS
}

// hostTLS holds a host's configuration, and the one offered to viewers that cannot speak TLS 1.2,
// which HTTP/2 requires (RFC 9113 §9.2), without h2 in ALPN.
type hostTLS struct {
	cfg, legacy *tls.Config
}

// noCertificate answers a handshake for a name no distribution serves: without certificates,
// crypto/tls ends the handshake with the unrecognized_name alert (RFC 6066 §3).
var noCertificate = &tls.Config{}

// configForClient picks the configuration for a ClientHello by its server name (SNI). A hello without
// one names no distribution and is refused the same way.
func (e *Edge) configForClient(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	hosts := e.tlsHosts.Load()
	if hosts == nil {
		return noCertificate, nil
	}
	h := hosts.byHost[strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))]
	if h == nil {
		return noCertificate, nil
	}
	if h.legacy != nil && maxVersion(hello.SupportedVersions) < tls.VersionTLS12 {
		return h.legacy, nil
	}
	return h.cfg, nil
}

func maxVersion(vs []uint16) uint16 {
	var m uint16
	for _, v := range vs {
		m = max(m, v)
	}
	return m
}

// buildTLS compiles the TLS view of snap: each distribution's own domain name is served with the
// default certificate, its alternative domain names with the certificate it attaches, each under the
// distribution's security policy. Certificates that cannot be had are logged; their names then fail
// the handshake as unknown names do.
func (e *Edge) buildTLS(ctx context.Context, snap *snapshot) {
	if e.certs == nil {
		return
	}
	out := &tlsHosts{generation: snap.generation, byHost: make(map[string]*hostTLS, len(snap.byHost))}
	def, err := e.certs.Default(ctx)
	if err != nil {
		e.log.Warn("edge: no default certificate; distributions' own domain names fail TLS handshakes", "err", err)
	}
	type key struct {
		policy string
		cert   *tls.Certificate
	}
	shared := map[key]*hostTLS{}
	configFor := func(policy string, cert *tls.Certificate) *hostTLS {
		k := key{policy, cert}
		if h := shared[k]; h != nil {
			return h
		}
		p, ok := tlsPolicies[policy]
		if !ok {
			p = tlsPolicies[defaultTLSPolicy]
		}
		cfg := &tls.Config{
			Certificates: []tls.Certificate{*cert},
			MinVersion:   p.min,
			CipherSuites: p.suites,
			NextProtos:   []string{"h2", "http/1.1"},
		}
		h := &hostTLS{cfg: cfg}
		if p.min < tls.VersionTLS12 {
			h.legacy = cfg.Clone()
			h.legacy.NextProtos = []string{"http/1.1"}
		}
		shared[k] = h
		return h
	}
	attached := map[[2]string]*tls.Certificate{}
	for host, d := range snap.byHost {
		cert := def
		if host != d.domainName {
			k := [2]string{d.accountID, d.certificateName}
			c, seen := attached[k]
			if !seen && d.certificateName != "" {
				if c, err = e.certs.Certificate(ctx, d.accountID, d.certificateName); err != nil {
					e.log.Warn("edge: certificate not served", "distribution", d.name, "certificate", d.certificateName, "err", err)
					c = nil
				}
				attached[k] = c
			}
			cert = c
		}
		if cert != nil {
			out.byHost[host] = configFor(d.tlsPolicy, cert)
		}
	}
	e.tlsHosts.Store(out)
}

// TLSConfig is the configuration to serve viewers' TLS with (a server name picks the distribution's
// certificate and security policy); TLSListener uses it.
func (e *Edge) TLSConfig() *tls.Config { return e.tlsBase }

// NewTLSServer returns the http.Server for the TLS port: like NewServer, without h2c (HTTP/2 is
// negotiated by ALPN and served by TLSListener), and with each request's r.TLS set. Serve it on
// TLSListener(ln, srv).
func (e *Edge) NewTLSServer() *http.Server {
	srv := e.NewServer()
	srv.Handler = http.HandlerFunc(e.serveHTTP)
	e.instrumentTLS(srv)
	return srv
}

// InstrumentTLS prepares a server built elsewhere (an httptest.Server's Config, before Start) to
// serve the TLS port on TLSListener: the meter's hooks, and r.TLS on the requests of connections
// that reach it wrapped. NewTLSServer does this itself.
func (e *Edge) InstrumentTLS(srv *http.Server) {
	e.Instrument(srv)
	e.instrumentTLS(srv)
}

type tlsStateKey struct{}

func (e *Edge) instrumentTLS(srv *http.Server) {
	prev := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if prev != nil {
			ctx = prev(ctx, c)
		}
		if tc := asTLSConn(c); tc != nil {
			st := tc.ConnectionState()
			ctx = context.WithValue(ctx, tlsStateKey{}, &st)
		}
		return ctx
	}
	next := srv.Handler
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// net/http sets r.TLS only when it holds the *tls.Conn itself; here the connection reaches it
		// wrapped (meter, fast path), and the state was captured when it arrived.
		if r.TLS == nil {
			r.TLS, _ = r.Context().Value(tlsStateKey{}).(*tls.ConnectionState)
		}
		next.ServeHTTP(w, r)
	})
}

// misdirected reports whether a request on a TLS connection names, in its Host field, another
// distribution than the one the handshake chose by its server name (SNI). Such a request is
// answered 421 Misdirected Request (RFC 9110 §15.5.20: the connection "is not able to produce a
// response" for that authority; a client then retries on a connection of its own) and never
// served: each distribution's security policy and certificate are chosen at the handshake, so
// serving it would let a viewer reach a distribution that requires TLS 1.2 through one that allows
// TLS 1.1, or front one site behind another's name (domain fronting, which CloudFront refuses
// across accounts). Plain HTTP (state nil) has no server name.
//
// One case is not misdirected: HTTP/2 connection reuse (RFC 9113 §9.1.1), which browsers practise
// for every name a connection's certificate covers. Default domain names share one wildcard
// certificate; a request for another default domain name of the same account, on a connection
// made for a default domain name under the same security policy, has exactly the certificate and
// protocol its own connection would have had.
func (s *snapshot) misdirected(state *tls.ConnectionState, host string, d *distribution) bool {
	if state == nil || state.ServerName == "" || d == nil {
		return false
	}
	sni := canonicalHost(state.ServerName)
	sd := s.byHost[sni]
	if sd == d {
		return false
	}
	coalesced := sd != nil && sd.domainName == sni && d.domainName == canonicalHost(host) &&
		sd.tlsPolicy == d.tlsPolicy && sd.accountID == d.accountID
	return !coalesced
}

// asTLSConn finds the *tls.Conn in c through Unwrap layers.
func asTLSConn(c net.Conn) *tls.Conn {
	for c != nil {
		if tc, ok := c.(*tls.Conn); ok {
			return tc
		}
		u, ok := c.(interface{ Unwrap() net.Conn })
		if !ok {
			return nil
		}
		c = u.Unwrap()
	}
	return nil
}

// TLSListener serves viewers' TLS on ln for srv (NewTLSServer, or one prepared with InstrumentTLS),
// which must then Serve the result. Each handshake runs in its own goroutine, so a slow viewer holds
// up no other. A connection that negotiated h2 is served right there by an HTTP/2 server configured
// on srv (its timeouts, its graceful shutdown); an HTTP/1.1 connection is handed to srv as its
// decrypted stream, through Listener: metered at the HTTP layer (the bytes viewers' requests and
// responses occupy, as CloudFront reports them, not TLS records) and read by the fast path.
func (e *Edge) TLSListener(ln net.Listener, srv *http.Server) (net.Listener, error) {
	h2 := &http2.Server{}
	if err := http2.ConfigureServer(srv, h2); err != nil {
		return nil, err
	}
	tl := &tlsListener{raw: e.limit(ln), e: e, srv: srv, h2: h2, conns: make(chan net.Conn), closed: make(chan struct{})}
	go tl.run()
	return e.listener(tl, srv, true), nil
}

type tlsListener struct {
	raw   net.Listener
	e     *Edge
	srv   *http.Server
	h2    *http2.Server
	conns chan net.Conn // handshaken HTTP/1.1 connections for Accept

	closeOnce sync.Mutex // guards closed's closing and err
	closed    chan struct{}
	err       error // why the raw listener stopped
}

func (l *tlsListener) run() {
	var delay time.Duration
	for {
		c, err := l.raw.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// EMFILE and the like: back off as net/http does, rather than spin.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			l.shut(err)
			return
		}
		delay = 0
		go l.handshake(c)
	}
}

func (l *tlsListener) handshake(c net.Conn) {
	tc := tls.Server(c, l.e.tlsBase)
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		l.e.tlsStats.handshake(false)
		l.e.log.Debug("edge: TLS handshake failed", "remote", c.RemoteAddr().String(), "err", err)
		_ = c.Close()
		return
	}
	l.e.tlsStats.handshake(true)
	if tc.ConnectionState().NegotiatedProtocol == http2.NextProtoTLS {
		l.h2.ServeConn(tc, &http2.ServeConnOpts{BaseConfig: l.srv, Handler: l.srv.Handler})
		return
	}
	select {
	case l.conns <- tc:
	case <-l.closed:
		_ = tc.Close()
	}
}

func (l *tlsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		l.closeOnce.Lock()
		defer l.closeOnce.Unlock()
		return nil, l.err
	}
}

func (l *tlsListener) shut(err error) {
	l.closeOnce.Lock()
	defer l.closeOnce.Unlock()
	select {
	case <-l.closed:
	default:
		l.err = err
		close(l.closed)
	}
}

func (l *tlsListener) Close() error {
	err := l.raw.Close()
	l.shut(net.ErrClosed)
	return err
}

func (l *tlsListener) Addr() net.Addr { return l.raw.Addr() }

// tlsMetrics counts handshakes by result.
type tlsMetrics struct {
	handshakes *prometheus.CounterVec
}

func newTLSMetrics(reg prometheus.Registerer) (*tlsMetrics, error) {
	m := &tlsMetrics{handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sailcdn_edge_tls_handshakes_total",
		Help: "TLS handshakes on the edge's TLS port, by result (ok, failed: unknown server name, protocol version or cipher refused, timeout).",
	}, []string{"result"})}
	return m, reg.Register(m.handshakes)
}

func (m *tlsMetrics) handshake(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.handshakes.WithLabelValues("ok").Inc()
	} else {
		m.handshakes.WithLabelValues("failed").Inc()
	}
}
