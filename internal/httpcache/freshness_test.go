package httpcache

import (
	"net/http"
	"testing"
	"time"
)

// TestStoreAndReuse drives two requests through a real origin with the clock moved between them
// and checks whether the second was answered from storage (RFC 9111 §3, §4.2, policy clamps).
func TestStoreAndReuse(t *testing.T) {
	const h = time.Hour
	cases := []struct {
		name     string
		status   int
		resp     []string // origin response header lines
		firstReq []string // header lines of the first (storing) request only
		policy   Policy
		advance  time.Duration
		wantHit  bool
	}{
		{name: "max-age fresh", resp: []string{"Cache-Control: max-age=60"}, advance: 30 * time.Second, wantHit: true},
		{name: "max-age stale", resp: []string{"Cache-Control: max-age=60"}, advance: 61 * time.Second},
		{name: "max-age=0", resp: []string{"Cache-Control: max-age=0"}},
		{name: "negative max-age is stale", resp: []string{"Cache-Control: max-age=-60"}},
		{name: "directive names are case-insensitive", resp: []string{"Cache-Control: MaX-AgE=60"}, advance: 30 * time.Second, wantHit: true},
		{name: "max-age inside a quoted extension is ignored", resp: []string{`Cache-Control: ext="max-age=600", max-age=1`}, advance: 30 * time.Second},
		{name: "s-maxage beats longer max-age", resp: []string{"Cache-Control: max-age=600, s-maxage=10"}, advance: 30 * time.Second},
		{name: "s-maxage beats shorter max-age", resp: []string{"Cache-Control: max-age=10, s-maxage=600"}, advance: 30 * time.Second, wantHit: true},
		{name: "max-age beats past Expires", resp: []string{"Cache-Control: max-age=600", "Expires: Thu, 01 Jan 1970 00:00:00 GMT"}, advance: 30 * time.Second, wantHit: true},
		{name: "future Expires", resp: []string{"Expires: Sun, 01 Mar 2026 12:10:00 GMT"}, advance: 5 * time.Minute, wantHit: true},
		{name: "Expires past its date", resp: []string{"Expires: Sun, 01 Mar 2026 12:10:00 GMT"}, advance: 11 * time.Minute},
		{name: "invalid Expires is stale", resp: []string{"Expires: 0", "Etag: \"v1\""}, advance: time.Second},
		{name: "Expires relative to Date, not receipt", resp: []string{"Date: Sun, 01 Mar 2026 11:00:00 GMT", "Expires: Sun, 01 Mar 2026 11:30:00 GMT"}},
		{name: "upstream Age counts", resp: []string{"Cache-Control: max-age=100", "Age: 90"}, advance: 20 * time.Second},
		{name: "nothing said and no validator", advance: time.Second},
		{name: "DefaultTTL is the heuristic", policy: Policy{DefaultTTL: time.Minute}, advance: 30 * time.Second, wantHit: true},
		{name: "DefaultTTL ends", policy: Policy{DefaultTTL: time.Minute}, advance: 61 * time.Second},
		{name: "DefaultTTL not for 201", status: http.StatusCreated, policy: Policy{DefaultTTL: time.Minute}, advance: time.Second},
		{name: "heuristic 10% of Last-Modified", resp: []string{"Last-Modified: Sat, 25 Feb 2026 08:00:00 GMT"}, advance: 9 * h, wantHit: true},
		{name: "heuristic expires", resp: []string{"Last-Modified: Sun, 01 Mar 2026 02:00:00 GMT"}, advance: 2 * h},
		{name: "no heuristic for 403", status: http.StatusForbidden, resp: []string{"Last-Modified: Sat, 25 Feb 2026 08:00:00 GMT"}, advance: time.Second},
		{name: "public allows heuristic for any status", status: 599, resp: []string{"Cache-Control: public", "Last-Modified: Sat, 25 Feb 2026 08:00:00 GMT"}, advance: time.Second, wantHit: true},
		{name: "explicit freshness on 500", status: 500, resp: []string{"Cache-Control: max-age=60"}, advance: time.Second, wantHit: true},
		{name: "206 not stored", status: http.StatusPartialContent, resp: []string{"Cache-Control: max-age=60", "Content-Range: bytes 0-1/10"}},
		{name: "no-store", resp: []string{"Cache-Control: max-age=60, no-store"}, advance: time.Second},
		{name: "private", resp: []string{"Cache-Control: private, max-age=60"}, advance: time.Second},
		{name: "qualified private stores the rest", resp: []string{`Cache-Control: private="Set-Cookie", max-age=60`}, advance: time.Second, wantHit: true},
		{name: "request no-store", firstReq: []string{"Cache-Control: no-store"}, resp: []string{"Cache-Control: max-age=60"}, advance: time.Second},
		{name: "Authorization", firstReq: []string{"Authorization: Bearer x"}, resp: []string{"Cache-Control: max-age=60"}, advance: time.Second},
		{name: "Authorization with public", firstReq: []string{"Authorization: Bearer x"}, resp: []string{"Cache-Control: max-age=60, public"}, advance: time.Second, wantHit: true},
		{name: "Authorization with s-maxage", firstReq: []string{"Authorization: Bearer x"}, resp: []string{"Cache-Control: s-maxage=60"}, advance: time.Second, wantHit: true},
		{name: "Authorization with must-revalidate", firstReq: []string{"Authorization: Bearer x"}, resp: []string{"Cache-Control: max-age=60, must-revalidate"}, advance: time.Second, wantHit: true},
		{name: "MaxTTL caps", policy: Policy{MaxTTL: 10 * time.Second}, resp: []string{"Cache-Control: max-age=600"}, advance: 20 * time.Second},
		{name: "MinTTL raises", policy: Policy{MinTTL: 100 * time.Second}, resp: []string{"Cache-Control: max-age=10"}, advance: 50 * time.Second, wantHit: true},
		{name: "MinTTL overrides private", policy: Policy{MinTTL: 100 * time.Second}, resp: []string{"Cache-Control: private"}, advance: 50 * time.Second, wantHit: true},
		{name: "MinTTL overrides no-cache", policy: Policy{MinTTL: 100 * time.Second}, resp: []string{"Cache-Control: no-cache"}, advance: 50 * time.Second, wantHit: true},
		{name: "MinTTL never overrides Authorization", policy: Policy{MinTTL: 100 * time.Second}, firstReq: []string{"Authorization: Bearer x"}, resp: []string{"Cache-Control: max-age=600"}, advance: time.Second},
		{name: "Vary star never matches", resp: []string{"Cache-Control: max-age=60", "Vary: *"}, advance: time.Second},
		{name: "must-understand, unknown status", status: 599, resp: []string{"Cache-Control: max-age=60, no-store, must-understand"}, advance: time.Second},
		{name: "must-understand, known status ignores no-store", resp: []string{"Cache-Control: max-age=60, no-store, must-understand"}, advance: time.Second, wantHit: true},
		{name: "CDN-Cache-Control wins over Cache-Control", resp: []string{"Cache-Control: no-store", "CDN-Cache-Control: max-age=600"}, advance: time.Minute, wantHit: true},
		{name: "short CDN-Cache-Control", resp: []string{"Cache-Control: max-age=600", "CDN-Cache-Control: max-age=10"}, advance: time.Minute},
		{name: "invalid CDN-Cache-Control is ignored", resp: []string{"Cache-Control: no-store", "CDN-Cache-Control: max-age=600, &&"}, advance: time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status := tc.status
			if status == 0 {
				status = http.StatusOK
			}
			e := newEnv(t, Config{}, respond(status, "payload", tc.resp...))
			e.policy = tc.policy
			rec, _ := e.get("/obj", tc.firstReq...)
			wantXCache(t, rec, missLabel(status))
			e.clk.Advance(tc.advance)
			rec, res := e.get("/obj")
			gotHit := res.Status == Hit
			if gotHit != tc.wantHit {
				t.Fatalf("second request: status %v (origin hits %d), want hit=%v", res.Status, e.o.hits.Load(), tc.wantHit)
			}
			wantHits := int64(2)
			if tc.wantHit {
				wantHits = 1
				wantXCache(t, rec, "Hit")
			}
			if got := e.o.hits.Load(); got != wantHits {
				t.Fatalf("origin hits = %d, want %d", got, wantHits)
			}
			if rec.Code != status || rec.Body.String() != "payload" && bodyAllowed(status) {
				t.Fatalf("second response = %d %q", rec.Code, rec.Body.String())
			}
		})
	}
}

func missLabel(status int) string {
	if status >= 400 {
		return "Error"
	}
	return "Miss"
}

func TestAnalyzeAge(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name      string
		hdr       http.Header
		requested time.Time
		want      time.Duration
	}{
		{name: "no Age, Date now", hdr: http.Header{"Date": {base.Format(http.TimeFormat)}}, requested: base, want: 0},
		{name: "Age plus response delay", hdr: http.Header{"Date": {base.Format(http.TimeFormat)}, "Age": {"30"}}, requested: base.Add(-2 * time.Second), want: 32 * time.Second},
		{name: "apparent age from old Date", hdr: http.Header{"Date": {base.Add(-time.Hour).Format(http.TimeFormat)}}, requested: base, want: time.Hour},
		{name: "first Age line wins", hdr: http.Header{"Age": {"7200", "0"}}, requested: base, want: 2 * time.Hour},
		{name: "first list member wins", hdr: http.Header{"Age": {"0, 7200"}}, requested: base, want: 0},
		{name: "non-numeric Age ignored", hdr: http.Header{"Age": {"abc"}}, requested: base, want: 0},
		{name: "negative Age ignored", hdr: http.Header{"Age": {"-7200"}}, requested: base, want: 0},
		{name: "float Age ignored", hdr: http.Header{"Age": {"7200.0"}}, requested: base, want: 0},
		{name: "huge Age saturates at 2^31", hdr: http.Header{"Age": {"99999999999999999999"}}, requested: base, want: maxDelta * time.Second},
		{name: "future Date gives no negative age", hdr: http.Header{"Date": {base.Add(time.Hour).Format(http.TimeFormat)}}, requested: base, want: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			info := analyze(analyzeInput{reqCC: newDirectives(), status: 200, header: tc.hdr, requestTime: tc.requested, responseTime: base})
			if info.correctedAge != tc.want {
				t.Fatalf("corrected_initial_age = %v, want %v", info.correctedAge, tc.want)
			}
		})
	}
}
