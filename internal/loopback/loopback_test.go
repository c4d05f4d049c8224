package loopback

import "testing"

func TestIs(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"localhost", true},
		{"localhost:4580", true},
		{"LOCALHOST.:4580", true},
		{"d123.cdn.localhost:8080", true},
		{"127.0.0.1", true},
		{"127.0.0.1:4580", true},
		{"127.8.9.10:1", true},
		{"[::1]:4580", true},
		{"::1", true},
		{"[::1]", true},
		{"0.0.0.0:4580", false},
		{"[::]:4580", false},
		{":4580", false},
		{"", false},
		{"10.0.0.1:4580", false},
		{"localhost.evil.test", false},
		{"evil-localhost:80", false},
		{"rebind.evil.test", false},
		{"[::ffff:127.0.0.1]:80", true}, // an IPv4-mapped loopback address is loopback
	}
	for _, tc := range cases {
		if got := Is(tc.in); got != tc.want {
			t.Errorf("Is(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
