package uripath

import (
	"net/url"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"/", "/", true},
		{"/a/b.jpg", "/a/b.jpg", true},
		// §6.2.2.2: unreserved characters decoded, whatever the case of their hex.
		{"/%61%62c", "/abc", true},
		{"/%7euser/%7Efile", "/~user/~file", true},
		{"/a%2Db%2e%5Fc", "/a-b._c", true},
		// §6.2.2.1: other encodings upper-cased, never decoded.
		{"/a%2fb", "/a%2Fb", true},
		{"/a%20b%3f", "/a%20b%3F", true},
		{"/%c3%a9", "/%C3%A9", true},
		// §6.2.2.3 / §5.2.4: dot-segments, raw and encoded.
		{"/../x", "/x", true},
		{"/%2e%2e/x", "/x", true},
		{"/%2E./x", "/x", true},
		{"/static/../api/x", "/api/x", true},
		{"/static/%2e%2e/api/x", "/api/x", true},
		{"/a/./b", "/a/b", true},
		{"/a/b/..", "/a/", true},
		{"/a/b/.", "/a/b/", true},
		{"/a/b/c/./../../g", "/a/g", true},
		{"/..", "/", true},
		{"/../../..", "/", true},
		{"/a//b/../c", "/a//c", true},
		{"/a/..b/c.", "/a/..b/c.", true},
		{"/.well-known/x", "/.well-known/x", true},
		// Dot-segments an origin could still find: refused.
		{"/static%2F..%2Fapi", "", false},
		{"/static%2f%2e%2e%2fapi", "", false},
		{"/static/..%2Fapi", "", false},
		{"/static/..%5Capi", "", false},
		{"/static/..;/api", "", false},
		{"/static/.;x/api", "", false},
		{"/a;b/c", "/a;b/c", true},
		// Not an escaped absolute path.
		{"", "", false},
		{"a/b", "", false},
		{"/a%zz", "", false},
		{"/a%2", "", false},
	}
	for _, tc := range cases {
		got, ok := Normalize(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNormalizeDoesNotAllocateForPlainPaths(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() { Normalize("/assets/app.v2.js") })
	if allocs != 0 {
		t.Fatalf("%v allocations for a path that needs no change", allocs)
	}
}

// FuzzNormalize holds Normalize to the standard library and to what it promises: the normal form
// names the same resource as its input (url.PathUnescape agrees once dot-segments are resolved by
// url.URL.ResolveReference, Go's RFC 3986 §5.2.4), is stable, and has no dot-segment left.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "/%2e%2e/x", "/a/./b/../c", "/a%2fb", "/%7e", "/a//b/..", "/static/..;/api", "/..%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		u, err := url.Parse("http://h" + in)
		if err != nil || u.Path == "" || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" || strings.Contains(in, "?") || strings.Contains(in, "#") {
			return
		}
		escaped := u.EscapedPath()
		got, ok := Normalize(escaped)
		if !ok {
			return
		}
		if again, ok := Normalize(got); !ok || again != got {
			t.Fatalf("Normalize(%q) = %q, but Normalize of that = %q, %v", escaped, got, again, ok)
		}
		if hasDotSegment(got) || strings.Contains(got, "%2e") || strings.Contains(got, "%2E") {
			t.Fatalf("Normalize(%q) = %q still has a dot-segment", escaped, got)
		}
		for i := 0; i+2 < len(got); i++ {
			if got[i] == '%' && (strings.ToUpper(got[i:i+3]) != got[i:i+3] || isUnreserved(unhex(got[i+1])<<4|unhex(got[i+2]))) {
				t.Fatalf("Normalize(%q) = %q: %s is not in normal form", escaped, got, got[i:i+3])
			}
		}
		// Same resource: resolving the input's dot-segments with the standard library and
		// decoding gives what decoding the normal form gives. (Go's resolver drops the empty
		// segment before a leading "..", so paths with empty segments are left to the table, and
		// an encoded '/' is part of its segment for Normalize but a separator once decoded.)
		if strings.Contains(escaped, "//") || strings.Contains(strings.ToUpper(escaped), "%2F") {
			return
		}
		decoded, err := url.PathUnescape(escaped)
		if err != nil {
			return
		}
		// Resolve on the decoded form, where %2e has become '.', as Normalize does.
		ref := &url.URL{Path: decoded}
		base := &url.URL{Scheme: "http", Host: "h", Path: "/"}
		want := base.ResolveReference(ref).Path
		have, err := url.PathUnescape(got)
		if err != nil {
			t.Fatalf("Normalize(%q) = %q does not unescape: %v", escaped, got, err)
		}
		if want != have {
			t.Fatalf("Normalize(%q) = %q (decoded %q); the standard library resolves %q to %q", escaped, got, have, decoded, want)
		}
	})
}
