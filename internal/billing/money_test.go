package billing

import (
	"errors"
	"math"
	"testing"
)

func TestParseMicros(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Micros
	}{
		{"overage rate", "0.09", 90_000},
		{"small bundle price", "2.5", 2_500_000},
		{"trailing zero", "2.50", 2_500_000},
		{"integer", "35", 35_000_000},
		{"zero", "0", 0},
		{"negative zero", "-0", 0},
		{"zero with huge exponent", "0e999999999999", 0},
		{"exponent", "1e2", 100_000_000},
		{"negative exponent", "25e-1", 2_500_000},
		{"upper-case exponent with plus", "9E+0", 9_000_000},
		{"one micro", "0.000001", 1},
		{"zeros below a micro are fine", "0.0000010000", 1},
		{"largest", "9223372036854.775807", math.MaxInt64},
		{"float64-hostile value", "0.1", 100_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMicros(tt.in)
			if err != nil {
				t.Fatalf("ParseMicros(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseMicros(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseMicrosRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"negative", "-0.01"},
		{"below a micro", "0.0000001"},
		{"below a micro via exponent", "1e-7"},
		{"one above the largest", "9223372036854.775808"},
		{"huge exponent", "1e999999999999"},
		{"empty", ""},
		{"word", "abc"},
		{"NaN", "NaN"},
		{"leading zero", "01"},
		{"dot without fraction", "1."},
		{"fraction without integer", ".5"},
		{"plus sign", "+1"},
		{"space", " 1"},
		{"exponent without digits", "1e"},
		{"hex", "0x10"},
		{"comma decimal", "2,5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMicros(tt.in)
			if !errors.Is(err, ErrInvalidAmount) {
				t.Fatalf("ParseMicros(%q) = %d, %v; want ErrInvalidAmount", tt.in, got, err)
			}
		})
	}
}

func TestMicrosFormatting(t *testing.T) {
	tests := []struct {
		name    string
		m       Micros
		decimal string
		str     string
		float   float64
	}{
		{"zero", 0, "0", "$0.000000", 0},
		{"one micro", 1, "0.000001", "$0.000001", 0.000001},
		{"overage rate", 90_000, "0.09", "$0.090000", 0.09},
		{"small bundle", 2_500_000, "2.5", "$2.500000", 2.5},
		{"whole dollars", 35_000_000, "35", "$35.000000", 35},
		{"negative", -1_500_000, "-1.5", "-$1.500000", -1.5},
		{"most negative", math.MinInt64, "-9223372036854.775808", "-$9223372036854.775808", -9223372036854.775808},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Decimal(); got != tt.decimal {
				t.Errorf("Decimal() = %q, want %q", got, tt.decimal)
			}
			if got := tt.m.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := tt.m.Float64(); got != tt.float {
				t.Errorf("Float64() = %v, want %v", got, tt.float)
			}
			if tt.m >= 0 {
				back, err := ParseMicros(tt.m.Decimal())
				if err != nil || back != tt.m {
					t.Errorf("ParseMicros(Decimal()) = %d, %v; want %d", back, err, tt.m)
				}
			}
		})
	}
}

func TestMulDivFloor(t *testing.T) {
	tests := []struct {
		name    string
		a, b, d int64
		want    int64
		ok      bool
	}{
		{"exact", 2_500_000, 744, 744, 2_500_000, true},
		{"rounds down", 2_500_000, 1, 744, 3360, true},
		{"128-bit intermediate", math.MaxInt64, 744, 744, math.MaxInt64, true},
		{"bytes times rate", 4_000_000_000_000_000, 90_000, BytesPerGB, 360_000_000_000, true},
		{"zero", 0, 5, 7, 0, true},
		{"result too large", math.MaxInt64, 2, 1, 0, false},
		{"negative factor", -1, 1, 1, 0, false},
		{"zero divisor", 1, 1, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := mulDivFloor(tt.a, tt.b, tt.d)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("mulDivFloor(%d, %d, %d) = %d, %v; want %d, %v", tt.a, tt.b, tt.d, got, ok, tt.want, tt.ok)
			}
		})
	}
}
