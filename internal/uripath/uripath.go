// Package uripath puts the path of a request target in the one form the edge matches against cache
// behaviours, forwards to the origin and keys the cache on, so that every spelling of a resource
// is the same request (RFC 3986 §6.2.2, syntax-based normalisation) and no spelling reaches
// outside the path it seems to name.
package uripath

import "strings"

// Normalize returns the normal form of an escaped absolute path (as url.URL.EscapedPath gives it:
// it starts with '/' and every byte outside RFC 3986's pchar set is percent-encoded):
//
//   - percent-encoded unreserved characters (ALPHA, DIGIT, '-', '.', '_', '~') are decoded
//     (§6.2.2.2): "/%7Euser/%61" is "/~user/a";
//   - every other percent-encoding gets upper-case hex digits (§6.2.2.1): "%2f" is "%2F";
//   - dot-segments are removed as §5.2.4 removes them (§6.2.2.3), after the decoding above, so
//     "%2e%2e" is a ".." too: "/static/../api/x" and "/%2e%2e/x" are "/api/x" and "/x", and a
//     ".." above the root stays at the root.
//
// ok is false, and the path must be refused, when escaped is not a valid escaped absolute path,
// or when the normal form still holds a dot-segment in a spelling an origin may decode later: a
// "." or ".." between "%2F" or "%5C" (encoded '/' and '\'), as in "/static%2F..%2Fapi", which
// origins that decode %2F, or treat '\' as '/', would resolve outside "/static"; or a ".." with
// path parameters, as in "/static/..;/api", which servers that strip parameters read as "..".
// Such paths have no use but that one.
//
// A path that needs no change is returned as it is, without allocating.
func Normalize(escaped string) (normal string, ok bool) {
	if escaped == "" || escaped[0] != '/' {
		return "", false
	}
	normal = escaped
	if strings.Contains(escaped, "%") {
		var b strings.Builder
		b.Grow(len(escaped))
		for i := 0; i < len(escaped); i++ {
			c := escaped[i]
			if c != '%' {
				b.WriteByte(c)
				continue
			}
			if i+2 >= len(escaped) || !isHex(escaped[i+1]) || !isHex(escaped[i+2]) {
				return "", false
			}
			v := unhex(escaped[i+1])<<4 | unhex(escaped[i+2])
			if isUnreserved(v) {
				b.WriteByte(v)
			} else {
				b.WriteByte('%')
				b.WriteByte(upperHex[v>>4])
				b.WriteByte(upperHex[v&15])
			}
			i += 2
		}
		normal = b.String()
	}
	normal = RemoveDotSegments(normal)
	if hiddenDotSegment(normal) {
		return "", false
	}
	return normal, true
}

// RemoveDotSegments applies RFC 3986 §5.2.4 to an absolute path: "." segments go, and each ".."
// removes itself and the segment before it (none above the root). A path that ends in a
// dot-segment keeps its trailing '/' ("/a/b/.." is "/a/"). Empty segments are kept.
func RemoveDotSegments(path string) string {
	if !hasDotSegment(path) {
		return path
	}
	segs := strings.Split(path[1:], "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

// hasDotSegment reports whether the path has a segment that is exactly "." or "..".
func hasDotSegment(path string) bool {
	for i := 0; i < len(path); i++ {
		if path[i] != '/' || i+1 >= len(path) || path[i+1] != '.' {
			continue
		}
		j := i + 2
		if j < len(path) && path[j] == '.' {
			j++
		}
		if j == len(path) || path[j] == '/' {
			return true
		}
	}
	return false
}

// hiddenDotSegment reports whether a normalised path (dot-segments removed, upper-case hex)
// holds a "." or ".." segment once "%2F" and "%5C" are read as separators, or once a segment's
// parameters (from ';', which some servers strip: "/..;/") are dropped.
func hiddenDotSegment(path string) bool {
	if !strings.Contains(path, "%2F") && !strings.Contains(path, "%5C") && !strings.Contains(path, ";") {
		return false
	}
	r := strings.NewReplacer("%2F", "/", "%5C", "/").Replace(path)
	for seg := range strings.SplitSeq(r, "/") {
		seg, _, _ = strings.Cut(seg, ";")
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// isUnreserved: RFC 3986 §2.3.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

const upperHex = "0123456789ABCDEF"
