package billing

import (
	"errors"
	"strings"
	"testing"
)

func TestDefaultCatalog(t *testing.T) {
	c := DefaultCatalog()
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultCatalog().Validate(): %v", err)
	}
	if c.OveragePerGB != 90_000 {
		t.Errorf("OveragePerGB = %d, want 90000", c.OveragePerGB)
	}
	small, ok := c.Bundle("small_1_0")
	if !ok {
		t.Fatal("small_1_0 missing")
	}
	if small.Price != 2_500_000 || small.TransferPerMonthGB != 50 || !small.IsActive {
		t.Errorf("small_1_0 = %+v, want $2.50 / 50 GB active", small)
	}
	if small.QuotaBytes() != 50_000_000_000 {
		t.Errorf("small_1_0 quota = %d bytes, want 5e10", small.QuotaBytes())
	}
	for _, id := range []string{"medium_1_0", "large_1_0"} {
		if b, ok := c.Bundle(id); !ok || !b.IsActive {
			t.Errorf("%s missing or inactive: %+v", id, b)
		}
	}
	if _, ok := c.Bundle("nano_1_0"); ok {
		t.Error("Bundle(nano_1_0) found a bundle that does not exist")
	}
}

func TestParseCatalog(t *testing.T) {
	const in = `{"overagePerGb": 0.09, "bundles": [
		{"bundleId": "small_1_0", "name": "Small", "price": 2.5, "transferPerMonthInGb": 50, "isActive": true},
		{"bundleId": "legacy_0_9", "name": "Legacy", "price": 0.1, "transferPerMonthInGb": 0, "isActive": false},
		{"bundleId": "big_1_0", "name": "Big", "price": 1e2, "transferPerMonthInGb": 9000000000, "isActive": true}
	]}`
	c, err := ParseCatalog(strings.NewReader(in))
	if err != nil {
		t.Fatalf("ParseCatalog: %v", err)
	}
	want := Catalog{OveragePerGB: 90_000, Bundles: []Bundle{
		{ID: "small_1_0", Name: "Small", Price: 2_500_000, TransferPerMonthGB: 50, IsActive: true},
		{ID: "legacy_0_9", Name: "Legacy", Price: 100_000, TransferPerMonthGB: 0, IsActive: false},
		{ID: "big_1_0", Name: "Big", Price: 100_000_000, TransferPerMonthGB: 9_000_000_000, IsActive: true},
	}}
	if c.OveragePerGB != want.OveragePerGB || len(c.Bundles) != len(want.Bundles) {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	for i := range want.Bundles {
		if c.Bundles[i] != want.Bundles[i] {
			t.Errorf("bundle %d = %+v, want %+v", i, c.Bundles[i], want.Bundles[i])
		}
	}
}

func TestParseCatalogRejects(t *testing.T) {
	const small = `{"bundleId": "small_1_0", "name": "Small", "price": 2.5, "transferPerMonthInGb": 50, "isActive": true}`
	tests := []struct {
		name   string
		in     string
		amount bool // the error must also wrap ErrInvalidAmount
	}{
		{"bad JSON", `{"overagePerGb": 0.09, "bundles": [`, false},
		{"not an object", `[]`, false},
		{"empty input", ``, false},
		{"trailing data", `{"overagePerGb": 0.09, "bundles": [` + small + `]} {}`, false},
		{"unknown member", `{"overagePerGB": 0.09, "bundles": [` + small + `]}`, false},
		{"missing overage", `{"bundles": [` + small + `]}`, false},
		{"null overage", `{"overagePerGb": null, "bundles": [` + small + `]}`, false},
		{"negative overage", `{"overagePerGb": -0.09, "bundles": [` + small + `]}`, true},
		{"overage below a micro", `{"overagePerGb": 0.0000001, "bundles": [` + small + `]}`, true},
		{"no bundles", `{"overagePerGb": 0.09, "bundles": []}`, false},
		{"negative price", `{"overagePerGb": 0.09, "bundles": [{"bundleId": "a", "name": "A", "price": -2.5, "transferPerMonthInGb": 50, "isActive": true}]}`, true},
		{"negative quota", `{"overagePerGb": 0.09, "bundles": [{"bundleId": "a", "name": "A", "price": 2.5, "transferPerMonthInGb": -1, "isActive": true}]}`, false},
		{"fractional quota", `{"overagePerGb": 0.09, "bundles": [{"bundleId": "a", "name": "A", "price": 2.5, "transferPerMonthInGb": 50.5, "isActive": true}]}`, false},
		{"quota beyond int64 bytes", `{"overagePerGb": 0.09, "bundles": [{"bundleId": "a", "name": "A", "price": 2.5, "transferPerMonthInGb": 9300000000, "isActive": true}]}`, false},
		{"duplicate id", `{"overagePerGb": 0.09, "bundles": [` + small + `,` + small + `]}`, false},
		{"empty id", `{"overagePerGb": 0.09, "bundles": [{"bundleId": "", "name": "A", "price": 2.5, "transferPerMonthInGb": 50, "isActive": true}]}`, false},
		{"missing price", `{"overagePerGb": 0.09, "bundles": [{"bundleId": "a", "name": "A", "transferPerMonthInGb": 50, "isActive": true}]}`, false},
		{"missing isActive", `{"overagePerGb": 0.09, "bundles": [{"bundleId": "a", "name": "A", "price": 2.5, "transferPerMonthInGb": 50}]}`, false},
		{"missing name", `{"overagePerGb": 0.09, "bundles": [{"bundleId": "a", "price": 2.5, "transferPerMonthInGb": 50, "isActive": true}]}`, false},
		{"no active bundle", `{"overagePerGb": 0.09, "bundles": [{"bundleId": "a", "name": "A", "price": 2.5, "transferPerMonthInGb": 50, "isActive": false}]}`, false},
		{"price as a string", `{"overagePerGb": 0.09, "bundles": [{"bundleId": "a", "name": "A", "price": "2.5", "transferPerMonthInGb": 50, "isActive": true}]}`, true},
		{"null bundle", `{"overagePerGb": 0.09, "bundles": [null]}`, false},
		{"bundles not a list", `{"overagePerGb": 0.09, "bundles": {}}`, false},
		{"price as word", `{"overagePerGb": 0.09, "bundles": [{"bundleId": "a", "name": "A", "price": "cheap", "transferPerMonthInGb": 50, "isActive": true}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCatalog(strings.NewReader(tt.in))
			if !errors.Is(err, ErrInvalidCatalog) {
				t.Fatalf("ParseCatalog = %+v, %v; want ErrInvalidCatalog", c, err)
			}
			if tt.amount && !errors.Is(err, ErrInvalidAmount) {
				t.Errorf("error %v does not wrap ErrInvalidAmount", err)
			}
		})
	}
}

func TestParseCatalogTooLarge(t *testing.T) {
	in := `{"overagePerGb": 0.09, "bundles": [], "pad": "` + strings.Repeat("x", maxCatalogBytes) + `"}`
	if _, err := ParseCatalog(strings.NewReader(in)); !errors.Is(err, ErrInvalidCatalog) {
		t.Fatalf("err = %v, want ErrInvalidCatalog", err)
	}
}

func TestCatalogValidate(t *testing.T) {
	ok := Bundle{ID: "a", Name: "A", Price: 1, TransferPerMonthGB: 1, IsActive: true}
	tests := []struct {
		name string
		c    Catalog
	}{
		{"negative overage", Catalog{OveragePerGB: -1, Bundles: []Bundle{ok}}},
		{"negative price", Catalog{Bundles: []Bundle{{ID: "a", Name: "A", Price: -1, IsActive: true}}}},
		{"empty", Catalog{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.c.Validate(); !errors.Is(err, ErrInvalidCatalog) {
				t.Fatalf("Validate() = %v, want ErrInvalidCatalog", err)
			}
		})
	}
}
