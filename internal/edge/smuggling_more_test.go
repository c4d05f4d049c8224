package edge

import "strings"

// Probe classes the drill (docs/reliability.md) added to smugglingProbes: framing edge cases of
// Content-Length and chunked bodies, over-long heads, odd methods and request forms. (h2c is not
// probed here: the edge upgrades to it by design, docs/edge.md, where net/http alone would not;
// docs/reliability.md says what the drill saw.)
var moreSmugglingProbes = []probe{
	{name: "CL empty", raw: post("Content-Length: \r\n", "hello") + after + last},
	{name: "CL trailing space", raw: post("Content-Length: 5 \r\n", "hello") + after + last},
	{name: "CL leading zeros", raw: post("Content-Length: 005\r\n", "hello") + after + last},
	{name: "chunk size leading space", raw: post("Transfer-Encoding: chunked\r\n", " 5\r\nhello\r\n0\r\n\r\n") + after + last},
	{name: "chunk size trailing junk", raw: post("Transfer-Encoding: chunked\r\n", "5x\r\nhello\r\n0\r\n\r\n") + after + last},
	{name: "chunk data longer than its size", raw: post("Transfer-Encoding: chunked\r\n", "3\r\nhello\r\n0\r\n\r\n") + after + last},
	{name: "chunked on HTTP/1.0", raw: "POST /p HTTP/1.0\r\nHost: site.cdn.test\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + after + last},
	{name: "TE identity alone", raw: post("Transfer-Encoding: identity\r\nContent-Length: 5\r\n", "hello") + after + last},
	{name: "TE gzip, chunked", raw: post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n") + after + last},
	{name: "header section over 1 MiB", raw: "GET /p HTTP/1.1\r\nHost: site.cdn.test\r\nX-Big: " + strings.Repeat("a", 1<<20+10) + "\r\n\r\n" + after + last},
	{name: "request line over 1 MiB", raw: "GET /" + strings.Repeat("a", 1<<20+10) + " HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n" + after + last},
	{name: "lowercase method", raw: "get /p HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n" + after + last},
	{name: "CONNECT", raw: "CONNECT site.cdn.test:80 HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n" + after + last},
	{name: "asterisk-form", raw: "OPTIONS * HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n" + after + last},
}
