package billing

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Micros is an amount of money in millionths of a US dollar. Lightsail's wire format carries money
// as JSON doubles (DistributionBundle.price, EstimateByTime.usageCost); inside sailcdn it is always
// an integer so sums are exact. Convert at the edges only: ParseMicros on the way in, Float64 or
// Decimal on the way out. A micro is fine enough for every published Lightsail figure (hourly rates
// are quoted to 1/10,000 of a dollar, overage to 1/100).
type Micros int64

// MicrosPerDollar is the number of Micros in one US dollar.
const MicrosPerDollar Micros = 1_000_000

// Float64 returns the amount in dollars as a float64, for the wire. It is the correctly rounded
// double of the exact decimal value, so 2_500_000 becomes exactly 2.5 and 90_000 becomes 0.09.
func (m Micros) Float64() float64 {
	return float64(m) / float64(MicrosPerDollar)
}

// Decimal returns the amount in dollars as the shortest exact decimal text ("2.5", "0.09", "-1",
// "0"). ParseMicros(m.Decimal()) == m for every m.
func (m Micros) Decimal() string {
	neg := m < 0
	// Work on the magnitude as uint64 so math.MinInt64 does not overflow.
	u := uint64(m)
	if neg {
		u = -u
	}
	whole := u / uint64(MicrosPerDollar)
	frac := u % uint64(MicrosPerDollar)
	s := strconv.FormatUint(whole, 10)
	if frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// String formats the amount for people and logs, e.g. "$2.500000".
func (m Micros) String() string {
	neg := m < 0
	u := uint64(m)
	if neg {
		u = -u
	}
	sign := ""
	if neg {
		sign = "-"
	}
	return fmt.Sprintf("%s$%d.%06d", sign, u/uint64(MicrosPerDollar), u%uint64(MicrosPerDollar))
}

// ParseMicros converts a non-negative decimal number of dollars, written in JSON number syntax
// (RFC 8259 §6: "2.5", "0.09", "25e-1"), to Micros exactly. It works on the decimal digits, never
// through a float64, so "0.09" is 90_000 and not 89_999. It rejects negative amounts, amounts with
// a non-zero digit below one micro, amounts above math.MaxInt64 micros, and anything that is not a
// JSON number; every such error wraps ErrInvalidAmount.
func ParseMicros(s string) (Micros, error) {
	digits, exp, neg, err := splitJSONNumber(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %q: %v", ErrInvalidAmount, s, err)
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return 0, nil // any spelling of zero, including "-0" and "0e999"
	}
	if neg {
		return 0, fmt.Errorf("%w: %q: must not be negative", ErrInvalidAmount, s)
	}
	// value = digits × 10^exp dollars = digits × 10^(exp+6) micros.
	shift := exp + 6
	switch {
	case shift < 0:
		cut := len(digits) + shift // shift is negative: drop -shift trailing digits
		if cut < 0 {
			cut = 0
		}
		if strings.Trim(digits[cut:], "0") != "" {
			return 0, fmt.Errorf("%w: %q: finer than one millionth of a dollar", ErrInvalidAmount, s)
		}
		digits = digits[:cut]
		if digits == "" {
			return 0, nil
		}
	case shift > 0:
		if len(digits)+shift > 19 { // more digits than any int64 has
			return 0, fmt.Errorf("%w: %q: too large", ErrInvalidAmount, s)
		}
		digits += strings.Repeat("0", shift)
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q: too large", ErrInvalidAmount, s)
	}
	return Micros(v), nil
}

// splitJSONNumber checks s against the JSON number grammar (RFC 8259 §6) and returns its significant
// digits (integer and fraction digits concatenated), the power of ten they must be multiplied by,
// and the sign. The exponent is bounded so it cannot overflow; callers reject out-of-range values.
func splitJSONNumber(s string) (digits string, exp int, neg bool, err error) {
	i := 0
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[start:i]
	if intPart == "" {
		return "", 0, false, fmt.Errorf("not a number")
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return "", 0, false, fmt.Errorf("leading zero")
	}
	var fracPart string
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		fracPart = s[start:i]
		if fracPart == "" {
			return "", 0, false, fmt.Errorf("no digits after the decimal point")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		expText := strings.TrimLeft(s[start:i], "0")
		if start == i {
			return "", 0, false, fmt.Errorf("no digits in the exponent")
		}
		// Clamp huge exponents: anything beyond ±10^6 is out of range either way, and a clamped
		// value still classifies correctly (zero stays zero, anything else is too large or too fine).
		if len(expText) > 7 {
			expText = "1000000"
		}
		e, _ := strconv.Atoi("0" + expText)
		if expNeg {
			e = -e
		}
		exp = e
	}
	if i != len(s) {
		return "", 0, false, fmt.Errorf("unexpected %q", s[i:])
	}
	return intPart + fracPart, exp - len(fracPart), neg, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// mulDivFloor returns floor(a*b/d) for a, b >= 0 and d > 0, computing a*b in 128 bits so no
// intermediate product can overflow. This is THE rounding rule of the package (see the package
// doc): every fraction of a micro, byte, hour or basis point is rounded down, once, here. ok is false
// when an argument is out of domain or the result does not fit in an int64.
func mulDivFloor(a, b, d int64) (q int64, ok bool) {
	if a < 0 || b < 0 || d <= 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(d) { // quotient would need more than 64 bits
		return 0, false
	}
	uq, _ := bits.Div64(hi, lo, uint64(d))
	if uq > math.MaxInt64 {
		return 0, false
	}
	return int64(uq), true
}

// addInt64 adds two non-negative counters, reporting overflow instead of wrapping.
func addInt64(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}
