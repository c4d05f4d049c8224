package edge

import "testing"

func TestCanonicalHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cdn.example.com", "cdn.example.com"},
		{"CDN.Example.com.", "cdn.example.com"},
		{"CDN.example.com.:8080", "cdn.example.com"},
		{"cdn.example.com:80", "cdn.example.com"},
		{"[::1]:8080", "::1"},
		{"[::1]", "::1"},
		{"[abc]", "abc"},
		{"a:b:c", "a:b:c"}, // not host:port
		{"", ""},
	}
	for _, tt := range tests {
		if got := canonicalHost(tt.in); got != tt.want {
			t.Errorf("canonicalHost(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = canonicalHost("d1234567890abc.cdn.localhost") }); n != 0 {
		t.Errorf("canonicalHost allocates %v times for a host without a port", n)
	}
}
