package lightsail

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Timestamp is a model timestamp. AWS JSON 1.1 puts timestamps on the wire as epoch seconds, a JSON
// number with an optional millisecond fraction (1571071325.076). An ISO-8601 string would break the Go
// and JS SDKs while boto3 accepts it, so Marshal only ever writes numbers.
type Timestamp struct{ time.Time }

// NewTimestamp wraps t (nil for the zero time, so that an unset time is left off the wire).
func NewTimestamp(t time.Time) *Timestamp {
	if t.IsZero() {
		return nil
	}
	return &Timestamp{t.UTC()}
}

// MarshalJSON writes epoch seconds with at most millisecond precision.
func (t Timestamp) MarshalJSON() ([]byte, error) { return t.AppendJSON(nil), nil }

// AppendJSON appends what MarshalJSON returns: "1571071325", "1571071325.076", "1571071325.5".
func (t Timestamp) AppendJSON(b []byte) []byte {
	ms := t.UnixMilli()
	if ms < 0 { // before 1970: -1.5 is minus one and a half seconds, so the sign goes first
		b = append(b, '-')
		ms = -ms
	}
	sec, frac := ms/1000, ms%1000
	b = strconv.AppendInt(b, sec, 10)
	if frac == 0 {
		return b
	}
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	return b
}

// UnmarshalJSON reads epoch seconds (integer or fractional). Clients send numbers; a quoted number or an
// RFC 3339 string is accepted too, to be lenient with hand-written requests.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' {
		unq, err := strconv.Unquote(s)
		if err != nil {
			return fmt.Errorf("timestamp: %w", err)
		}
		if p, err := time.Parse(time.RFC3339Nano, unq); err == nil {
			t.Time = p.UTC()
			return nil
		}
		s = unq
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e13 {
		return fmt.Errorf("timestamp: %q is not epoch seconds", s)
	}
	sec := math.Floor(f)
	t.Time = time.Unix(int64(sec), int64(math.Round((f-sec)*1e3))*int64(time.Millisecond)).UTC()
	return nil
}
