package edge

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatchPattern(t *testing.T) {
	cases := []struct {
		pattern, path string
		want          bool
	}{
		{"/images/*", "/images/a.jpg", true},
		{"/images/*", "/images/a/b/c.jpg", true}, // '*' crosses '/'
		{"/images/*", "/images/", true},          // '*' matches nothing
		{"/images/*", "/images", false},
		{"*.jpg", "/a/b.jpg", true}, // normalised to "/*.jpg"
		{"*.jpg", "/a/b.jpeg", false},
		{"/a?c", "/abc", true},
		{"/a?c", "/ac", false},
		{"/a?c", "/abbc", false},
		{"/a?c", "/aéc", true}, // '?' is one character, not one byte
		{"/*/x/*", "/a/x/b/x/c", true},
		{"/*a*b*c", "/xaxbxcx", false},
		{"/*a*b*c", "/xaxbxc", true},
		{"/Index.html", "/index.html", false}, // case-sensitive
		{"/exact", "/exact", true},
		{"/exact", "/exact/", false},
		{"/**", "/", true},
		{"/", "/", true},
		{"/*", "/", true},
	}
	for _, tc := range cases {
		if got := matchPattern(normalizePattern(tc.pattern), tc.path); got != tc.want {
			t.Errorf("matchPattern(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

// patternRegexp is the reference semantics: '*' is (?s).*, '?' is (?s)., the rest literal.
func patternRegexp(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.Compile(b.String())
}

func FuzzMatchPattern(f *testing.F) {
	for _, s := range [][2]string{
		{"/images/*", "/images/a.jpg"}, {"*.css", "/x/y.css"}, {"/a?c", "/aéc"}, {"/*a*b*c", "/xaxbxc"},
		{"/**?", "/"}, {"?", "/"}, {"/a*", "/a\n"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(path) || len(pattern) > 64 || len(path) > 256 {
			return // the regexp reference needs valid UTF-8; real paths are decoded URLs
		}
		p := normalizePattern(pattern)
		re, err := patternRegexp(p)
		if err != nil {
			t.Skip(err)
		}
		if got, want := matchPattern(p, path), re.MatchString(path); got != want {
			t.Fatalf("matchPattern(%q, %q) = %v, reference says %v", p, path, got, want)
		}
	})
}
