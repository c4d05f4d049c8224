package httpcache

import (
	"net/http"
	"slices"
	"strings"
)

// absentValue stands for "the request did not carry this header" in a secondary key. A field
// value can never contain NUL (RFC 9110 §5.5), so it cannot collide with a real value; keeping
// absent distinct from empty is what makes a request that omits a Vary'd header miss a variant
// stored for a request that sent it, and vice versa (RFC 9111 §4.1).
const absentValue = "\x00"

// parseVary returns the canonical header names listed in the Vary lines (deduplicated, in order)
// and whether "*" appeared in any of them. Empty list members are ignored (RFC 9110 §5.6.1).
func parseVary(lines []string) (names []string, star bool) {
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ",") {
			part = strings.TrimSpace(part)
			switch {
			case part == "":
			case part == "*":
				star = true
			default:
				name := http.CanonicalHeaderKey(part)
				if !slices.Contains(names, name) {
					names = append(names, name)
				}
			}
		}
	}
	return names, star
}

// secondaryKey computes the normalised values of the named request headers.
func secondaryKey(names []string, h http.Header) []string {
	if len(names) == 0 {
		return nil
	}
	vals := make([]string, len(names))
	for i, n := range names {
		vals[i] = normalizeVaryValue(n, h[n])
	}
	return vals
}

// acceptLike lists the proactive-negotiation fields whose list order and case carry no meaning
// (preference is expressed by qvalues, RFC 9110 §12.4.2) so they can be sorted and lower-cased.
func acceptLike(name string) bool {
	switch name {
	case "Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language":
		return true
	}
	return false
}

// normalizeVaryValue normalises a selecting header the way RFC 9111 §4.1 allows ("removing
// whitespace, combining multiple field lines ..., normalizing both header field values in a way
// that is known to have identical semantics"): field lines are combined with commas, list members
// are trimmed and empty members dropped; Accept-* members are also lower-cased and sorted.
func normalizeVaryValue(name string, lines []string) string {
	if len(lines) == 0 {
		return absentValue
	}
	accept := acceptLike(name)
	if len(lines) == 1 && alreadyNormal(lines[0], accept) {
		return lines[0] // hot path: no allocation
	}
	var members []string
	for _, line := range lines {
		for m := range strings.SplitSeq(line, ",") {
			m = compactMember(m)
			if m == "" {
				continue
			}
			if accept {
				m = strings.ToLower(m)
			}
			members = append(members, m)
		}
	}
	if accept {
		slices.Sort(members)
	}
	return strings.Join(members, ",")
}

// alreadyNormal reports whether v would come out of normalisation unchanged.
func alreadyNormal(v string, accept bool) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' || c == '\t' {
			return false
		}
		if accept && (c == ',' || c >= 'A' && c <= 'Z') {
			return false
		}
		if c == ',' && (i == 0 || i == len(v)-1 || v[i+1] == ',') {
			return false
		}
	}
	return true
}

// compactMember trims a list member and removes whitespace around ';' and '=' in its parameters.
func compactMember(m string) string {
	m = strings.TrimSpace(m)
	if !strings.ContainsAny(m, " \t") {
		return m
	}
	var b strings.Builder
	for i := 0; i < len(m); i++ {
		c := m[i]
		if c == ' ' || c == '\t' {
			// keep whitespace only between two non-separator characters
			prev := m[i-1]
			j := i
			for j < len(m) && (m[j] == ' ' || m[j] == '\t') {
				j++
			}
			if prev != ';' && prev != '=' && m[j] != ';' && m[j] != '=' {
				b.WriteByte(' ')
			}
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// varyMatches reports whether a stored response with these selecting headers can be used for a
// request with header h (RFC 9111 §4.1).
func (e *entry) varyMatches(h http.Header) bool {
	for i, name := range e.varyNames {
		got := normalizeVaryValue(name, h[name])
		if got == e.varyValues[i] {
			continue
		}
		if name == "Accept-Language" && e.contentLanguage != "" && got != absentValue &&
			strings.EqualFold(topLanguage(got), e.contentLanguage) {
			// RFC 9111 §4.1 lets a cache use a field's selection mechanism: the stored variant is
			// in the one language this request prefers above all others, so the origin would
			// have chosen it too.
			continue
		}
		return false
	}
	return true
}

// topLanguage returns the single language range with the highest qvalue in a normalised
// Accept-Language value, or "" when there is a tie or none.
func topLanguage(v string) string {
	best, bestQ, tie := "", -1, false
	for m := range strings.SplitSeq(v, ",") {
		lang, params, _ := strings.Cut(m, ";")
		q := 1000
		if after, ok := strings.CutPrefix(params, "q="); ok {
			q = parseQValue(after)
		}
		switch {
		case q > bestQ:
			best, bestQ, tie = lang, q, false
		case q == bestQ:
			tie = true
		}
	}
	if tie || bestQ <= 0 || best == "*" {
		return ""
	}
	return best
}

// parseQValue parses a qvalue (RFC 9110 §12.4.2) into thousandths; invalid values count as 0.
func parseQValue(s string) int {
	if s == "" || (s[0] != '0' && s[0] != '1') {
		return 0
	}
	q := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return q
	}
	if s[1] != '.' || len(s) > 5 {
		return 0
	}
	scale := 100
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
		q += int(s[i]-'0') * scale
		scale /= 10
	}
	return min(q, 1000)
}
