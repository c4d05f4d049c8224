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
	f := float64(d)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("lightsail: %v cannot be encoded as a JSON number", f)
	}
	b := strconv.AppendFloat(nil, f, 'g', -1, 64)
	for _, c := range b {
		if c == '.' || c == 'e' || c == 'E' {
			return b, nil
		}
	}
	return append(b, '.', '0'), nil
}
