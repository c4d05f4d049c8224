package billing

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"testing"
)

// FuzzParseCatalog: ParseCatalog never panics, every error wraps ErrInvalidCatalog, and an accepted
// catalog is valid and survives a round trip through its own JSON form unchanged.
func FuzzParseCatalog(f *testing.F) {
	f.Add([]byte(`{"overagePerGb": 0.09, "bundles": [{"bundleId": "small_1_0", "name": "Small", "price": 2.5, "transferPerMonthInGb": 50, "isActive": true}]}`))
	f.Add([]byte(`{"overagePerGb": 0, "bundles": [{"bundleId": "a", "name": "A", "price": 1e-6, "transferPerMonthInGb": 0, "isActive": true}, {"bundleId": "b", "name": "B", "price": 0, "transferPerMonthInGb": 9223372036, "isActive": false}]}`))
	f.Add([]byte(`{"overagePerGb": -0.09, "bundles": []}`))
	f.Add([]byte(`{"overagePerGB": 0.09}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCatalog(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrInvalidCatalog) {
				t.Fatalf("error %v does not wrap ErrInvalidCatalog", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted catalog does not validate: %v", err)
		}
		again, err := ParseCatalog(strings.NewReader(catalogJSON(c)))
		if err != nil {
			t.Fatalf("re-parse of %s: %v", catalogJSON(c), err)
		}
		if again.OveragePerGB != c.OveragePerGB || len(again.Bundles) != len(c.Bundles) {
			t.Fatalf("round trip changed the catalog: %+v → %+v", c, again)
		}
		for i := range c.Bundles {
			if again.Bundles[i] != c.Bundles[i] {
				t.Fatalf("round trip changed bundle %d: %+v → %+v", i, c.Bundles[i], again.Bundles[i])
			}
		}
	})
}

// catalogJSON writes c in the --bundles format, money as exact decimal text.
func catalogJSON(c Catalog) string {
	var b strings.Builder
	b.WriteString(`{"overagePerGb": ` + c.OveragePerGB.Decimal() + `, "bundles": [`)
	for i, x := range c.Bundles {
		if i > 0 {
			b.WriteString(", ")
		}
		id, _ := json.Marshal(x.ID)
		name, _ := json.Marshal(x.Name)
		active, _ := json.Marshal(x.IsActive)
		gbs, _ := json.Marshal(x.TransferPerMonthGB)
		b.WriteString(`{"bundleId": ` + string(id) + `, "name": ` + string(name) + `, "price": ` + x.Price.Decimal() +
			`, "transferPerMonthInGb": ` + string(gbs) + `, "isActive": ` + string(active) + `}`)
	}
	b.WriteString("]}")
	return b.String()
}

// hugeExponent matches numbers that big.Rat would expand into gigantic integers.
var hugeExponent = regexp.MustCompile(`[eE][+-]?0*[0-9]{4,}`)

// FuzzParseMicros: ParseMicros agrees with exact rational arithmetic, and Decimal inverts it.
func FuzzParseMicros(f *testing.F) {
	for _, s := range []string{"0.09", "2.5", "25e-1", "0.000001", "0.0000001", "-0", "-1", "9223372036854.775807",
		"9223372036854.775808", "1e2", "1E+2", "01", ".5", "1.", "0e99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMicros(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidAmount) {
				t.Fatalf("ParseMicros(%q) error %v does not wrap ErrInvalidAmount", s, err)
			}
			return
		}
		if m < 0 {
			t.Fatalf("ParseMicros(%q) = %d < 0", s, m)
		}
		if back, err := ParseMicros(m.Decimal()); err != nil || back != m {
			t.Fatalf("ParseMicros(%q) = %d but ParseMicros(%q) = %d, %v", s, m, m.Decimal(), back, err)
		}
		if hugeExponent.MatchString(s) || len(s) > 200 {
			return
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("ParseMicros accepted %q, which is not a number", s)
		}
		r.Mul(r, big.NewRat(int64(MicrosPerDollar), 1))
		if !r.IsInt() || r.Num().Int64() != int64(m) || !r.Num().IsInt64() {
			t.Fatalf("ParseMicros(%q) = %d, exact value is %s micros", s, m, r.RatString())
		}
	})
}
