package edge

import "unicode/utf8"

// A cache behaviour's path pattern selects requests by URL path, with CloudFront's rules (CloudFront
// Developer Guide, "Cache behavior settings" → "Path pattern"):
//
//   - '*' matches any run of characters, including none and including '/': "/images/*" matches
//     "/images/a/b.jpg", and "*.jpg" matches "/a/b.jpg".
//   - '?' matches exactly one character (one UTF-8 code point; an invalid byte counts as one).
//   - Every other character matches itself, case-sensitively. There is no escape: a literal '*' or
//     '?' cannot be matched on its own.
//   - The pattern must match the whole path.
//   - A pattern without a leading '/' is matched as if it had one ("images/*" ≡ "/images/*").
//   - The path is the request's decoded URL path in normal form (package uripath: dot-segments,
//     raw or percent-encoded, resolved first, so "/static/../api/x" is matched as "/api/x"), after
//     defaultRootObject turned "/" into the root object, without the query string.
//   - Patterns are tried in the order the distribution lists them; the first match wins, and a
//     request no pattern matches gets the default cache behaviour.

// normalizePattern adds the leading '/' CloudFront treats as implied.
func normalizePattern(p string) string {
	if len(p) > 0 && p[0] == '/' {
		return p
	}
	return "/" + p
}

// matchPattern reports whether the whole of path matches the (normalised) pattern. It runs in
// O(len(pattern) × len(path)) at worst: on a mismatch it only ever backtracks to the most recent
// '*', which is enough because a later '*' can absorb whatever an earlier one would have.
func matchPattern(pattern, path string) bool {
	px, sx := 0, 0
	starPx, starSx := -1, 0
	for sx < len(path) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starPx, starSx = px, sx
				px++
				continue
			case '?':
				_, size := utf8.DecodeRuneInString(path[sx:])
				px++
				sx += size
				continue
			default:
				if c == path[sx] {
					px++
					sx++
					continue
				}
			}
		}
		if starPx < 0 {
			return false
		}
		// Let the last '*' absorb one more character and retry from just after it.
		_, size := utf8.DecodeRuneInString(path[starSx:])
		starSx += size
		px, sx = starPx+1, starSx
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}
