package httpcache

// A small RFC 8941 (Structured Field Values) Dictionary parser, enough for CDN-Cache-Control
// (RFC 9213), whose grammar is a Dictionary. It validates the whole field as RFC 8941 §4.2
// requires and keeps only what cache directives use: integers, booleans and strings. Other item
// types parse (so a valid field is not rejected) but are reported with their kind only.

type sfKind uint8

const (
	sfBoolean sfKind = iota + 1
	sfInteger
	sfDecimal
	sfString
	sfToken
	sfBinary
	sfInnerList
)

type sfMember struct {
	key     string
	kind    sfKind
	integer int64
	boolean bool
	str     string
}

// parseSFDictionary parses s as an sf-dictionary (RFC 8941 §4.2.2). A key that repeats keeps its
// last value, as §4.2.2 specifies.
func parseSFDictionary(s string) ([]sfMember, bool) {
	p := sfParser{s: s}
	p.skipSP()
	var out []sfMember
	for !p.eof() {
		key, ok := p.key()
		if !ok {
			return nil, false
		}
		m := sfMember{key: key}
		if p.peek() == '=' {
			p.i++
			if !p.memberValue(&m) {
				return nil, false
			}
		} else {
			m.kind, m.boolean = sfBoolean, true
			if !p.parameters() {
				return nil, false
			}
		}
		replaced := false
		for i := range out {
			if out[i].key == key {
				out[i], replaced = m, true
			}
		}
		if !replaced {
			out = append(out, m)
		}
		p.skipOWS()
		if p.eof() {
			return out, true
		}
		if p.peek() != ',' {
			return nil, false
		}
		p.i++
		p.skipOWS()
		if p.eof() {
			return nil, false // trailing comma
		}
	}
	return out, true
}

type sfParser struct {
	s string
	i int
}

func (p *sfParser) eof() bool { return p.i >= len(p.s) }

func (p *sfParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}

func (p *sfParser) skipSP() {
	for !p.eof() && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *sfParser) skipOWS() {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// key parses ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ).
func (p *sfParser) key() (string, bool) {
	start := p.i
	if c := p.peek(); !(c >= 'a' && c <= 'z' || c == '*') {
		return "", false
	}
	p.i++
	for !p.eof() {
		c := p.s[p.i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '*' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i], true
}

func (p *sfParser) memberValue(m *sfMember) bool {
	if p.peek() == '(' {
		if !p.innerList() {
			return false
		}
		m.kind = sfInnerList
		return p.parameters()
	}
	if !p.bareItem(m) {
		return false
	}
	return p.parameters()
}

func (p *sfParser) innerList() bool {
	p.i++ // "("
	for !p.eof() {
		p.skipSP()
		if p.peek() == ')' {
			p.i++
			return true
		}
		var item sfMember
		if !p.bareItem(&item) || !p.parameters() {
			return false
		}
		if c := p.peek(); c != ' ' && c != ')' {
			return false
		}
	}
	return false
}

func (p *sfParser) parameters() bool {
	for p.peek() == ';' {
		p.i++
		p.skipSP()
		if _, ok := p.key(); !ok {
			return false
		}
		if p.peek() == '=' {
			p.i++
			var item sfMember
			if !p.bareItem(&item) {
				return false
			}
		}
	}
	return true
}

func (p *sfParser) bareItem(m *sfMember) bool {
	c := p.peek()
	switch {
	case c == '-' || c >= '0' && c <= '9':
		return p.number(m)
	case c == '"':
		return p.str(m)
	case c == '*' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		start := p.i
		p.i++
		for !p.eof() && (isTokenChar(p.s[p.i]) || p.s[p.i] == ':' || p.s[p.i] == '/') {
			p.i++
		}
		m.kind, m.str = sfToken, p.s[start:p.i]
		return true
	case c == ':':
		p.i++
		for !p.eof() && p.s[p.i] != ':' {
			b := p.s[p.i]
			if !(b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '=') {
				return false
			}
			p.i++
		}
		if p.eof() {
			return false
		}
		p.i++
		m.kind = sfBinary
		return true
	case c == '?':
		p.i++
		switch p.peek() {
		case '0':
			m.boolean = false
		case '1':
			m.boolean = true
		default:
			return false
		}
		p.i++
		m.kind = sfBoolean
		return true
	}
	return false
}

// number parses sf-integer (up to 15 digits) or sf-decimal (12.3 digits), RFC 8941 §4.2.4.
func (p *sfParser) number(m *sfMember) bool {
	neg := false
	if p.peek() == '-' {
		neg = true
		p.i++
	}
	var n int64
	digits, fracDigits, dot := 0, 0, false
	for !p.eof() {
		c := p.s[p.i]
		if c >= '0' && c <= '9' {
			if dot {
				fracDigits++
			} else {
				digits++
				n = n*10 + int64(c-'0')
			}
			p.i++
			if digits > 15 || fracDigits > 3 {
				return false
			}
			continue
		}
		if c == '.' && !dot {
			if digits == 0 || digits > 12 {
				return false
			}
			dot = true
			p.i++
			continue
		}
		break
	}
	if digits == 0 || dot && fracDigits == 0 {
		return false
	}
	if neg {
		n = -n
	}
	if dot {
		m.kind = sfDecimal
	} else {
		m.kind, m.integer = sfInteger, n
	}
	return true
}

func (p *sfParser) str(m *sfMember) bool {
	p.i++ // opening quote
	var b []byte
	for !p.eof() {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\':
			if p.eof() {
				return false
			}
			next := p.s[p.i]
			if next != '"' && next != '\\' {
				return false
			}
			b = append(b, next)
			p.i++
		case c == '"':
			m.kind, m.str = sfString, string(b)
			return true
		case c < 0x20 || c > 0x7e:
			return false
		default:
			b = append(b, c)
		}
	}
	return false
}
