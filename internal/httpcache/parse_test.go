package httpcache

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseCacheControl(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		check func(d directives) bool
	}{
		{"max-age", []string{"max-age=3600"}, func(d directives) bool { return d.maxAge == 3600 }},
		{"case-insensitive", []string{"MaX-AgE=3600"}, func(d directives) bool { return d.maxAge == 3600 }},
		{"leading zeros", []string{"max-age=003600"}, func(d directives) bool { return d.maxAge == 3600 }},
		{"quoted value", []string{`max-age="3600"`}, func(d directives) bool { return d.maxAge == 3600 }},
		{"decimal truncated", []string{"max-age=3600.5"}, func(d directives) bool { return d.maxAge == 3600 }},
		{"single-quoted is invalid: stale", []string{"max-age='3600'"}, func(d directives) bool { return d.maxAge == 0 }},
		{"negative is invalid: stale", []string{"max-age=-1"}, func(d directives) bool { return d.maxAge == 0 }},
		{"no value is invalid: stale", []string{"max-age"}, func(d directives) bool { return d.maxAge == 0 }},
		{"space before = skips the directive", []string{"max-age =3600"}, func(d directives) bool { return d.maxAge == absent }},
		{"space after = skips the directive", []string{"max-age= 3600"}, func(d directives) bool { return d.maxAge == absent }},
		{"overflow saturates", []string{"max-age=99999999999999999999999"}, func(d directives) bool { return d.maxAge == maxDelta }},
		{"first occurrence wins", []string{"max-age=1800, max-age=1"}, func(d directives) bool { return d.maxAge == 1800 }},
		{"first line wins", []string{"max-age=1800", "max-age=1"}, func(d directives) bool { return d.maxAge == 1800 }},
		{"quoted extension hides a directive", []string{`ext="max-age=3600, no-store", max-age=1`}, func(d directives) bool { return d.maxAge == 1 && !d.noStore }},
		{"booleans", []string{"no-store, No-Cache, PRIVATE, public, must-revalidate, proxy-revalidate, must-understand, only-if-cached"},
			func(d directives) bool {
				return d.noStore && d.noCache && d.private && d.public && d.mustRevalidate && d.proxyRevalidate && d.mustUnderstand && d.onlyIfCached
			}},
		{"qualified no-cache", []string{`no-cache="Set-Cookie, x-a"`}, func(d directives) bool {
			return !d.noCache && slices.Equal(d.noCacheFields, []string{"Set-Cookie", "X-A"})
		}},
		{"qualified then unqualified no-cache", []string{`no-cache="a", no-cache`}, func(d directives) bool { return d.noCache && d.noCacheFields == nil }},
		{"unquoted argument to no-cache is unqualified", []string{`no-cache=a`}, func(d directives) bool { return d.noCache }},
		{"stale extensions", []string{"stale-while-revalidate=30, stale-if-error=60"}, func(d directives) bool {
			return d.staleWhileRevalidate == 30 && d.staleIfError == 60
		}},
		{"request directives", []string{"max-stale, min-fresh=5"}, func(d directives) bool { return d.maxStaleAny && d.minFresh == 5 }},
		{"empty members", []string{",, ,max-age=5,,"}, func(d directives) bool { return d.maxAge == 5 }},
		{"unterminated quote", []string{`max-age=5, x="abc`}, func(d directives) bool { return d.maxAge == 5 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if d := parseCacheControl(tc.lines); !tc.check(d) {
				t.Fatalf("parseCacheControl(%q) = %+v", tc.lines, d)
			}
		})
	}
}

func FuzzParseCacheControl(f *testing.F) {
	f.Add("max-age=60, s-maxage=\"30\", no-cache=\"a, b\", private")
	f.Fuzz(func(t *testing.T, s string) {
		d := parseCacheControl([]string{s})
		for _, v := range []int64{d.maxAge, d.sMaxAge, d.maxStale, d.minFresh, d.staleWhileRevalidate, d.staleIfError} {
			if v != absent && (v < 0 || v > maxDelta) {
				t.Fatalf("delta out of range: %d", v)
			}
		}
		// The same directives on one line or split at commas outside quotes read the same way.
		if !strings.ContainsAny(s, "\"\\") {
			again := parseCacheControl(strings.Split(s, ","))
			if again.maxAge != d.maxAge || again.noStore != d.noStore || again.private != d.private {
				t.Fatalf("line split changed the meaning: %+v vs %+v", d, again)
			}
		}
	})
}

func TestParseCDNCacheControl(t *testing.T) {
	cases := []struct {
		name   string
		value  string
		wantOK bool
		check  func(d directives) bool
	}{
		{"max-age", "max-age=3600", true, func(d directives) bool { return d.maxAge == 3600 }},
		{"boolean and extension", "foobar, no-store", true, func(d directives) bool { return d.noStore }},
		{"parameters allowed", "max-age=10;a=1, private", true, func(d directives) bool { return d.maxAge == 10 && d.private }},
		{"string where integer expected is ignored", `max-age="10"`, true, func(d directives) bool { return d.maxAge == absent }},
		{"upper-case key is not a structured field", "MaX-aGe=10", false, nil},
		{"junk member", "max-age=10, &&&", false, nil},
		{"trailing comma", "max-age=10,", false, nil},
		{"space before =", "max-age =10", false, nil},
		{"inner list", "x=(a b), max-age=5", true, func(d directives) bool { return d.maxAge == 5 }},
		{"last duplicate wins", "max-age=5, max-age=7", true, func(d directives) bool { return d.maxAge == 7 }},
		{"boolean false", "no-store=?0", true, func(d directives) bool { return !d.noStore }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := parseCDNCacheControl([]string{tc.value})
			if ok != tc.wantOK || ok && !tc.check(d) {
				t.Fatalf("parseCDNCacheControl(%q) = %+v, %v", tc.value, d, ok)
			}
		})
	}
}

func FuzzParseSFDictionary(f *testing.F) {
	f.Add(`a=1, b="x\"y", c=?1;p=2, d=(1 2);q, e=:aGVsbG8=:, f=tok/en, g=-1.5`)
	f.Fuzz(func(t *testing.T, s string) {
		members, ok := parseSFDictionary(s)
		if !ok {
			return
		}
		seen := map[string]bool{}
		for _, m := range members {
			if m.key == "" || seen[m.key] {
				t.Fatalf("bad or duplicate key in %q: %+v", s, members)
			}
			seen[m.key] = true
		}
	})
}

func TestParseHTTPDate(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	want := time.Date(2050, 8, 18, 2, 1, 18, 0, time.UTC)
	cases := []struct {
		in     string
		want   time.Time
		wantOK bool
	}{
		{"Thu, 18 Aug 2050 02:01:18 GMT", want, true},
		{"THU, 18 AUG 2050 02:01:18 gmt", want, true},
		{"Thursday, 18-Aug-50 02:01:18 GMT", want, true},
		{"Thu Aug 18 02:01:18 2050", want, true},
		{"Thu Aug  8 02:01:18 2050", time.Date(2050, 8, 8, 2, 1, 18, 0, time.UTC), true},
		{"Sunday, 06-Nov-94 08:49:37 GMT", time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC), true},
		{"Sun, 21 Nov 2286 04:46:39 GMT", time.Date(2286, 11, 21, 4, 46, 39, 0, time.UTC), true},
		{"Thu, 18 Aug 2050 02:01:18 UTC", time.Time{}, false},
		{"Thu, 18 Aug 2050 02:01:18 AEST", time.Time{}, false},
		{"Thu, 18 Aug 50 02:01:18 GMT", time.Time{}, false},
		{"Thu 18 Aug 2050 02:01:18 GMT", time.Time{}, false},
		{"Thu, 18  Aug  2050 02:01:18 GMT", time.Time{}, false},
		{"Thu, 18-Aug-2050 02:01:18 GMT", time.Time{}, false},
		{"Thu, 18 Aug 2050 02.01.18 GMT", time.Time{}, false},
		{"Thu, 18 Aug 2050 2:01:18 GMT", time.Time{}, false},
		{"Thu, 31 Feb 2050 02:01:18 GMT", time.Time{}, false},
		{"Thu, 18 Aug 2050 25:01:18 GMT", time.Time{}, false},
		{"0", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := parseHTTPDate(tc.in, now)
			if ok != tc.wantOK || ok && !got.Equal(tc.want) {
				t.Fatalf("parseHTTPDate(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func FuzzParseHTTPDate(f *testing.F) {
	f.Add("Sun, 06 Nov 1994 08:49:37 GMT")
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseHTTPDate(s, now)
		if !ok {
			return
		}
		// Whatever parses round-trips through the preferred format.
		again, ok := parseHTTPDate(got.Format(http.TimeFormat), now)
		if !ok || !again.Equal(got) {
			t.Fatalf("%q parsed to %v, which does not round-trip (%v %v)", s, got, again, ok)
		}
	})
}

func TestParseByteRange(t *testing.T) {
	cases := []struct {
		in          string
		size        int64
		start, n    int64
		wantOutcome rangeOutcome
	}{
		{"bytes=0-1", 10, 0, 2, rangePartial},
		{"BYTES=0-1", 10, 0, 2, rangePartial},
		{"bytes=5-", 10, 5, 5, rangePartial},
		{"bytes=-3", 10, 7, 3, rangePartial},
		{"bytes=-30", 10, 0, 10, rangePartial},
		{"bytes=8-100", 10, 8, 2, rangePartial},
		{"bytes=10-", 10, 0, 0, rangeUnsatisfiable},
		{"bytes=-0", 10, 0, 0, rangeUnsatisfiable},
		{"bytes=0-0", 0, 0, 0, rangeUnsatisfiable},
		{"bytes=3-1", 10, 0, 0, rangeIgnore},
		{"bytes=0-1,4-5", 10, 0, 0, rangeIgnore},
		{"bytes=a-b", 10, 0, 0, rangeIgnore},
		{"items=0-1", 10, 0, 0, rangeIgnore},
		{"bytes=99999999999999999999-", 10, 0, 0, rangeIgnore},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			start, n, out := parseByteRange([]string{tc.in}, tc.size)
			if out != tc.wantOutcome || out == rangePartial && (start != tc.start || n != tc.n) {
				t.Fatalf("parseByteRange(%q, %d) = %d, %d, %v", tc.in, tc.size, start, n, out)
			}
		})
	}
}

func FuzzParseByteRange(f *testing.F) {
	f.Add("bytes=0-499", int64(1000))
	f.Add("bytes=-500", int64(10))
	f.Fuzz(func(t *testing.T, s string, size int64) {
		if size < 0 {
			return
		}
		start, n, out := parseByteRange([]string{s}, size)
		if out == rangePartial && (start < 0 || n <= 0 || start+n > size) {
			t.Fatalf("parseByteRange(%q, %d) = %d+%d outside the body", s, size, start, n)
		}
	})
}

func TestNormalizeVaryValue(t *testing.T) {
	cases := []struct {
		name  string
		field string
		lines []string
		want  string
	}{
		{"absent", "Foo", nil, absentValue},
		{"empty is not absent", "Foo", []string{""}, ""},
		{"already normal", "Foo", []string{"1,2"}, "1,2"},
		{"whitespace", "Foo", []string{" 1 ,  2 "}, "1,2"},
		{"lines combined", "Foo", []string{"1", "2"}, "1,2"},
		{"case kept for unknown fields", "Foo", []string{"A, b"}, "A,b"},
		{"accept-language sorted and lowered", "Accept-Language", []string{"en-US, DE;q=0.5"}, "de;q=0.5,en-us"},
		{"parameter whitespace", "Accept", []string{"text/html ; q = 0.5"}, "text/html;q=0.5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := normalizeVaryValue(tc.field, tc.lines); got != tc.want {
				t.Fatalf("normalizeVaryValue(%s, %q) = %q, want %q", tc.field, tc.lines, got, tc.want)
			}
		})
	}
}

func FuzzNormalizeVaryValue(f *testing.F) {
	f.Add("Accept-Language", "en, de;q=0.5 , fr")
	f.Add("Foo", " 1 ,2")
	f.Fuzz(func(t *testing.T, field, v string) {
		field = http.CanonicalHeaderKey(field)
		n := normalizeVaryValue(field, []string{v})
		// Normalisation is idempotent: a normalised value is its own normal form.
		if again := normalizeVaryValue(field, []string{n}); again != n {
			t.Fatalf("normalize(%q) = %q, normalize again = %q", v, n, again)
		}
	})
}

func TestTopLanguage(t *testing.T) {
	cases := map[string]string{
		"de;q=1.0,fr;q=0.5": "de",
		"de,en":             "",
		"fr;q=0.5":          "fr",
		"*":                 "",
		"en;q=0":            "",
	}
	for in, want := range cases {
		if got := topLanguage(in); got != want {
			t.Errorf("topLanguage(%q) = %q, want %q", in, got, want)
		}
	}
}
