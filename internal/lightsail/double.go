package lightsail

import (
	"fmt"
	"math"
	"strconv"
)

// Double is a model double or float. On the wire it always carries a decimal point ("35.0", not
// "35"), as AWS's services write them: Python's json module turns "35" into an int and "35.0" into a
// float, so a whole-number price or metric would otherwise reach boto3 users with another type than
// AWS gives them.
type Double float64

// NewDouble returns a pointer to v as a Double.
func NewDouble(v float64) *Double {
	d := Double(v)
	return &d
}

// MarshalJSON writes the shortest decimal that round-trips, with ".0" added to whole numbers.
func (d Double) MarshalJSON() ([]byte, error) {
	if f := float64(d); math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("lightsail: %v cannot be encoded as a JSON number", f)
	}
	return d.AppendJSON(nil), nil
}

// AppendJSON appends what MarshalJSON returns. JSON has no NaN or infinity: such a value is a bug of
// the code that computed it, so it panics (the API server answers that request with a 500 and logs
// it, as for a MarshalJSON error).
func (d Double) AppendJSON(b []byte) []byte {
	f := float64(d)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		panic(fmt.Sprintf("lightsail: %v cannot be encoded as a JSON number", f))
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'g', -1, 64)
	for _, c := range b[start:] {
		if c == '.' || c == 'e' || c == 'E' {
			return b
		}
	}
	return append(b, '.', '0')
}
