package awsjson

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Decoder reads one JSON document from memory, value by value, for the wire types generated from the
// Lightsail model (internal/lightsail, zz_json.go). It exists for two reasons:
//
//   - AWS JSON member names are case-sensitive ("DistributionName" is not "distributionName"), while
//     encoding/json matches case-insensitively; the generated readers compare names exactly.
//   - Speed: no reflection and no second pass over the input (encoding/json validates the whole
//     document before decoding it).
//
// It accepts exactly the documents encoding/json accepts and decodes them to the same values
// (FuzzDecoderAgreesWithEncodingJSON): RFC 8259 syntax, nesting at most 10000 deep, strings with
// invalid UTF-8 or lone surrogates read as U+FFFD. A value of the wrong JSON type for its member is a
// *TypeError carrying what encoding/json's UnmarshalTypeError would (the member path, the JSON type,
// the byte offset), so a client sees the same message from either decoder.
type Decoder struct {
	data  []byte
	off   int
	depth int
	key   []byte // unescaped member name, reused
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// NewDecoder returns a Decoder positioned at the start of data.
func NewDecoder(data []byte) *Decoder { return &Decoder{data: data} }

// SyntaxError is malformed JSON at byte offset Offset.
type SyntaxError struct {
	Msg    string
	Offset int64
}

func (e *SyntaxError) Error() string { return e.Msg }

// TypeError is a JSON value of the wrong type for the member it is read into.
type TypeError struct {
	Value  string // the JSON value's type: "string", "number", "number 1e400" (out of range), "bool", "array", "object"
	Want   string // what the member holds: "a string", "an integer", "a number", "a boolean", "a list", "a structure"
	Field  string // dotted member path, filled in by InMember on the way out
	Offset int64  // as encoding/json reports it: after a scalar, just inside an array or object
}

func (e *TypeError) Error() string {
	return "cannot read JSON " + e.Value + " as " + e.Want + " in member '" + e.Field + "'"
}

// InMember prefixes the member path of a *TypeError with name; other errors pass through. Generated
// readers call it only on the error path, so a successful decode builds no paths.
func InMember(name string, err error) error {
	if err == nil {
		return nil
	}
	var te *TypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			te.Field = name
		} else {
			te.Field = name + "." + te.Field
		}
	}
	return err
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (d *Decoder) skipSpace() {
	for d.off < len(d.data) && isSpace(d.data[d.off]) {
		d.off++
	}
}

// eof is what peek returns at the end of the input.
const eof = -1

// peek returns the first byte of the next value (after white space), or eof.
func (d *Decoder) peek() int {
	d.skipSpace()
	if d.off >= len(d.data) {
		return eof
	}
	return int(d.data[d.off])
}

func (d *Decoder) syntaxError(msg string) error {
	return &SyntaxError{Msg: msg, Offset: int64(d.off)}
}

func (d *Decoder) unexpectedEnd() error {
	return &SyntaxError{Msg: "unexpected end of JSON input", Offset: int64(len(d.data))}
}

// endInside is the error for input that ends inside a literal, a number or an escape. encoding/json
// finishes its scan by feeding a space, so it reports that space in the literal's context.
func (d *Decoder) endInside(context string) error {
	return &SyntaxError{Msg: "invalid character ' ' " + context, Offset: int64(len(d.data))}
}

// invalidChar is encoding/json's message for byte c at the current offset in context.
func (d *Decoder) invalidChar(context string) error {
	if d.off >= len(d.data) {
		return d.unexpectedEnd()
	}
	c := d.data[d.off]
	d.off++ // encoding/json reports the offset after the offending byte
	return d.syntaxError("invalid character " + quoteChar(c) + " " + context)
}

// quoteChar formats c as encoding/json's scanner does in its messages.
func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// End checks that only white space follows the value just read.
func (d *Decoder) End() error {
	d.skipSpace()
	if d.off < len(d.data) {
		return d.invalidChar("after top-level value")
	}
	return nil
}

// Null consumes a literal null and reports whether there was one. What follows it is checked by the
// enclosing Object or Array, or by End.
func (d *Decoder) Null() bool {
	if d.peek() == 'n' && d.off+4 <= len(d.data) && string(d.data[d.off:d.off+4]) == "null" {
		d.off += 4
		return true
	}
	return false
}

// literalEnds reports whether a literal ending at i is followed by a delimiter (or the end).
func (d *Decoder) literalEnds(i int) bool {
	if i >= len(d.data) {
		return true
	}
	switch c := d.data[i]; {
	case isSpace(c), c == ',', c == '}', c == ']', c == ':':
		return true
	}
	return false
}

// Object reads an object, calling member with each member's (unescaped) name; member must read the
// value, with one of the value methods or Skip. The name is valid only until member returns.
func (d *Decoder) Object(member func(name []byte) error) error {
	if empty, err := d.open('{', '}', "a structure"); err != nil || empty {
		return err
	}
	for {
		switch d.peek() {
		case '"':
		case eof:
			return d.unexpectedEnd()
		default:
			return d.invalidChar("looking for beginning of object key string")
		}
		name, err := d.readKey()
		if err != nil {
			return err
		}
		switch d.peek() {
		case ':':
			d.off++
		case eof:
			return d.unexpectedEnd()
		default:
			return d.invalidChar("after object key")
		}
		if d.peek() == eof {
			return d.unexpectedEnd()
		}
		if err := member(name); err != nil {
			return err
		}
		if done, err := d.next('}', "after object key:value pair"); err != nil || done {
			return err
		}
	}
}

// Array reads an array, calling elem once per element; elem must read the element.
func (d *Decoder) Array(elem func() error) error {
	if empty, err := d.open('[', ']', "a list"); err != nil || empty {
		return err
	}
	for {
		if d.peek() == eof {
			return d.unexpectedEnd()
		}
		if err := elem(); err != nil {
			return err
		}
		if done, err := d.next(']', "after array element"); err != nil || done {
			return err
		}
	}
}

// open reads a container's opening delimiter (what names the expected value in a type mismatch);
// empty reports that the container closes at once.
func (d *Decoder) open(opening, closing byte, what string) (empty bool, err error) {
	switch d.peek() {
	case int(opening):
	case eof:
		return false, d.unexpectedEnd()
	default:
		return false, d.mismatch(what)
	}
	d.off++
	if err := d.enter(opening); err != nil {
		return false, err
	}
	if d.peek() == int(closing) {
		d.off++
		d.depth--
		return true, nil
	}
	return false, nil
}

// next reads what follows a container's element: a comma (more follow) or the closing delimiter
// (done). after describes the place in encoding/json's words, for the syntax error.
func (d *Decoder) next(closing byte, after string) (done bool, err error) {
	switch d.peek() {
	case ',':
		d.off++
		return false, nil
	case int(closing):
		d.off++
		d.depth--
		return true, nil
	case eof:
		return false, d.unexpectedEnd()
	default:
		return false, d.invalidChar(after)
	}
}

func (d *Decoder) enter(open byte) error {
	d.depth++
	if d.depth > maxDepth {
		return d.syntaxError("invalid character " + quoteChar(open) + " exceeded max depth")
	}
	return nil
}

// String reads a string value.
func (d *Decoder) String() (string, error) {
	if d.peek() != '"' {
		return "", d.mismatch("a string")
	}
	start := d.off
	end, escaped, err := d.scanString()
	if err != nil {
		return "", err
	}
	if !escaped {
		s := d.data[start+1 : end-1]
		if utf8.Valid(s) {
			return string(s), nil
		}
	}
	return string(unquote(nil, d.data[start+1:end-1])), nil
}

// Bool reads true or false.
func (d *Decoder) Bool() (bool, error) {
	switch d.peek() {
	case 't':
		if err := d.literal("true"); err != nil {
			return false, err
		}
		return true, nil
	case 'f':
		if err := d.literal("false"); err != nil {
			return false, err
		}
		return false, nil
	}
	return false, d.mismatch("a boolean")
}

// Int64 reads a number that is an integer in int64's range; "1.0", "1e3" and out-of-range numbers
// are type errors, as in encoding/json.
func (d *Decoder) Int64() (int64, error) {
	if c := d.peek(); c != '-' && (c < '0' || c > '9') {
		return 0, d.mismatch("an integer")
	}
	lit, err := d.number()
	if err != nil {
		return 0, err
	}
	n, perr := strconv.ParseInt(string(lit), 10, 64)
	if perr != nil {
		return 0, &TypeError{Value: "number " + string(lit), Want: "an integer", Offset: int64(d.off)}
	}
	return n, nil
}

// Float64 reads a number in float64's range.
func (d *Decoder) Float64() (float64, error) {
	if c := d.peek(); c != '-' && (c < '0' || c > '9') {
		return 0, d.mismatch("a number")
	}
	lit, err := d.number()
	if err != nil {
		return 0, err
	}
	f, perr := strconv.ParseFloat(string(lit), 64)
	if perr != nil {
		return 0, &TypeError{Value: "number " + string(lit), Want: "a number", Offset: int64(d.off)}
	}
	return f, nil
}

// Raw reads the next value and returns its bytes as they appear in the input, for types that parse
// themselves (json.Unmarshaler).
func (d *Decoder) Raw() ([]byte, error) {
	d.skipSpace()
	start := d.off
	if err := d.Skip(); err != nil {
		return nil, err
	}
	return d.data[start:d.off], nil
}

// Skip reads over the next value, checking its syntax.
func (d *Decoder) Skip() error {
	switch c := d.peek(); {
	case c == '{':
		return d.Object(func([]byte) error { return d.Skip() })
	case c == '[':
		return d.Array(d.Skip)
	case c == '"':
		_, _, err := d.scanString()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := d.number()
		return err
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == eof:
		return d.unexpectedEnd()
	}
	return d.invalidChar("looking for beginning of value")
}

// Valid reports whether data is one JSON value (with optional surrounding white space), by the same
// rules as encoding/json.Valid.
func Valid(data []byte) bool {
	d := Decoder{data: data}
	return d.Skip() == nil && d.End() == nil
}

// mismatch reads over the value at the current position, which has the wrong type for want, and
// returns the TypeError, or the SyntaxError if the value is malformed.
func (d *Decoder) mismatch(want string) error {
	var value string
	switch c := d.peek(); {
	case c == '{' || c == '[':
		value = "object"
		if c == '[' {
			value = "array"
		}
		// encoding/json reports the offset just inside the bracket, then skips the value.
		offset := int64(d.off + 1)
		if err := d.Skip(); err != nil {
			return err
		}
		return &TypeError{Value: value, Want: want, Offset: offset}
	case c == '"':
		value = "string"
	case c == 't' || c == 'f':
		value = "bool"
	case c == '-' || (c >= '0' && c <= '9'):
		value = "number"
	}
	if err := d.Skip(); err != nil {
		return err
	}
	if value == "" { // null never mismatches; Skip has reported anything else
		return d.syntaxError("unexpected value")
	}
	return &TypeError{Value: value, Want: want, Offset: int64(d.off)}
}

func (d *Decoder) literal(word string) error {
	for i := 0; i < len(word); i++ {
		if d.off >= len(d.data) {
			return d.endInside("in literal " + word + " (expecting " + quoteChar(word[i]) + ")")
		}
		if d.data[d.off] != word[i] {
			return d.invalidChar("in literal " + word + " (expecting " + quoteChar(word[i]) + ")")
		}
		d.off++
	}
	return d.afterValue()
}

// afterValue checks that a scalar is not run together with what follows ("truex", "1x", `"a""b"`):
// encoding/json's scanner reports the next byte in the context of the enclosing value.
func (d *Decoder) afterValue() error {
	if d.off >= len(d.data) || d.literalEnds(d.off) {
		return nil
	}
	if d.depth == 0 {
		return d.invalidChar("after top-level value")
	}
	return nil // the caller (Object or Array) reports the byte in its own context
}

// number reads a number literal with RFC 8259's grammar and returns its bytes.
func (d *Decoder) number() ([]byte, error) {
	start := d.off
	data := d.data
	i := d.off
	if i < len(data) && data[i] == '-' {
		i++
	}
	digits := func(ctx string) error {
		if i >= len(data) {
			d.off = i
			return d.endInside(ctx)
		}
		if data[i] < '0' || data[i] > '9' {
			d.off = i
			return d.invalidChar(ctx)
		}
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		return nil
	}
	switch {
	case i >= len(data):
		d.off = i
		return nil, d.endInside("in numeric literal")
	case data[i] == '0':
		i++
	case data[i] >= '1' && data[i] <= '9':
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	default:
		d.off = i
		return nil, d.invalidChar("in numeric literal")
	}
	if i < len(data) && data[i] == '.' {
		i++
		if err := digits("after decimal point in numeric literal"); err != nil {
			return nil, err
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if err := digits("in exponent of numeric literal"); err != nil {
			return nil, err
		}
	}
	d.off = i
	if err := d.afterValue(); err != nil {
		return nil, err
	}
	return data[start:i], nil
}

// scanString reads over the string starting at d.off (a '"') and returns the offset after its closing
// quote and whether it contains escapes. Control characters are errors; bytes ≥ 0x80 are taken as they
// are (unquote replaces invalid UTF-8).
func (d *Decoder) scanString() (end int, escaped bool, err error) {
	data := d.data
	i := d.off + 1
	for {
		if i >= len(data) {
			d.off = len(data)
			return 0, false, d.unexpectedEnd()
		}
		c := data[i]
		switch {
		case c == '"':
			d.off = i + 1
			return d.off, escaped, d.afterValue()
		case c == '\\':
			escaped = true
			i++
			if i >= len(data) {
				d.off = i
				return 0, false, d.endInside("in string escape code")
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				i++
				for k := 0; k < 4; k++ {
					if i >= len(data) {
						d.off = i
						return 0, false, d.endInside("in \\u hexadecimal character escape")
					}
					if !isHex(data[i]) {
						d.off = i
						return 0, false, d.invalidChar("in \\u hexadecimal character escape")
					}
					i++
				}
			default:
				d.off = i
				return 0, false, d.invalidChar("in string escape code")
			}
		case c < 0x20:
			d.off = i
			return 0, false, d.invalidChar("in string literal")
		default:
			i++
		}
	}
}

// readKey reads a member name, unescaping it into d.key when needed.
func (d *Decoder) readKey() ([]byte, error) {
	start := d.off
	end, escaped, err := d.scanString()
	if err != nil {
		return nil, err
	}
	raw := d.data[start+1 : end-1]
	if !escaped && utf8.Valid(raw) {
		return raw, nil
	}
	d.key = unquote(d.key[:0], raw)
	return d.key, nil
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func hexVal(c byte) rune {
	switch {
	case c <= '9':
		return rune(c - '0')
	case c >= 'a':
		return rune(c - 'a' + 10)
	}
	return rune(c - 'A' + 10)
}

// unquote appends the decoded form of the (already validated) string body s to dst, as
// encoding/json does: invalid UTF-8 and lone surrogates become U+FFFD.
func unquote(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c == '\\' {
			switch s[i+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if r2 := hex4(s[i+2:]); utf16.DecodeRune(r, r2) != utf8.RuneError {
							dst = utf8.AppendRune(dst, utf16.DecodeRune(r, r2))
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, s[i+1])
			}
			i += 2
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

func hex4(s []byte) rune {
	return hexVal(s[0])<<12 | hexVal(s[1])<<8 | hexVal(s[2])<<4 | hexVal(s[3])
}
