package lightsail

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestTimestampWire(t *testing.T) {
	cases := []struct {
		name string
		t    time.Time
		wire string
	}{
		{"whole seconds", time.Unix(946684800, 0), "946684800"},
		{"milliseconds", time.Unix(1571071325, 76*int64(time.Millisecond)), "1571071325.076"},
		{"trailing zeros trimmed", time.Unix(1571071325, 500*int64(time.Millisecond)), "1571071325.5"},
		{"sub-millisecond dropped", time.Unix(10, 999_999), "10"},
		{"before 1970, fractional", time.Unix(-2, 500*int64(time.Millisecond)), "-1.5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(Timestamp{tc.t})
			if err != nil || string(b) != tc.wire {
				t.Fatalf("Marshal = %s, %v; want %s", b, err, tc.wire)
			}
			var back Timestamp
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if !back.Equal(tc.t.Truncate(time.Millisecond)) {
				t.Fatalf("round trip %v, want %v", back.Time, tc.t)
			}
		})
	}
	var ts Timestamp
	for _, in := range []string{`"2026-04-01T00:00:00Z"`, `"1775001600"`, `1775001600`} {
		if err := json.Unmarshal([]byte(in), &ts); err != nil || ts.Unix() != 1775001600 {
			t.Errorf("Unmarshal(%s) = %v, %v", in, ts.Time, err)
		}
	}
	for _, bad := range []string{`"yesterday"`, `true`, `1e300`, `"NaN"`} {
		if err := json.Unmarshal([]byte(bad), &ts); err == nil {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
	if NewTimestamp(time.Time{}) != nil {
		t.Error("zero time must be left off the wire")
	}
}

func TestValidateFromModel(t *testing.T) {
	s := func(v string) *string { return &v }
	i := func(v int64) *int64 { return &v }
	cases := []struct {
		name string
		in   interface{ Validate() error }
		want []string // substrings of the message; nil = valid
	}{
		{"valid create", &CreateDistributionRequest{DistributionName: s("site"), BundleId: s("small_1_0"),
			Origin: &InputOrigin{Name: s("web-1"), RegionName: s("us-east-1")}, DefaultCacheBehavior: &CacheBehavior{Behavior: s("cache")}}, nil},
		{"required members", &CreateDistributionRequest{}, []string{"4 validation errors", "Value null at 'bundleId'", "Value null at 'origin'", "'distributionName'", "'defaultCacheBehavior'"}},
		{"nested enum", &CreateDistributionRequest{DistributionName: s("site"), BundleId: s("b"),
			Origin:               &InputOrigin{Name: s("web-1"), RegionName: s("mars-1"), ProtocolPolicy: s("ftp")},
			DefaultCacheBehavior: &CacheBehavior{Behavior: s("cache")}},
			[]string{"Value 'mars-1' at 'origin.regionName'", "Value 'ftp' at 'origin.protocolPolicy'", "enum value set"}},
		{"pattern", &DeleteDistributionRequest{DistributionName: s("-")}, []string{"regular expression pattern"}},
		{"dotted names pass the unanchored model pattern", &DeleteDistributionRequest{DistributionName: s("my.site")}, nil},
		{"range", &GetDistributionMetricDataRequest{DistributionName: s("site"), MetricName: s("Requests"), Period: i(30),
			StartTime: &Timestamp{}, EndTime: &Timestamp{}, Unit: s("None"), Statistics: []string{"Sum", "Median"}},
			[]string{"Value '30' at 'period'", "greater than or equal to 60", "Value 'Median' at 'statistics.2.member'"}},
		{"forwardedHeaders default accepted", &UpdateDistributionRequest{DistributionName: s("site"),
			CacheBehaviorSettings: &CacheSettings{ForwardedHeaders: &HeaderObject{Option: s("default")}}}, nil},
		{"forwardedCookies default refused", &UpdateDistributionRequest{DistributionName: s("site"),
			CacheBehaviorSettings: &CacheSettings{ForwardedCookies: &CookieObject{Option: s("default")}}}, []string{"forwardedCookies.option"}},
		{"newer required member (WafRule.name)", &UpdateDistributionRequest{DistributionName: s("site"), WafRules: []WafRule{{}}},
			[]string{"Value null at 'wafRules.1.member.name'"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			var le *Error
			if !errors.As(err, &le) || le.Type != InvalidInput || le.HTTPStatus() != 400 || le.ErrorCode() != "ValidationError" {
				t.Fatalf("got %v, want InvalidInputException ValidationError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(le.Message, w) {
					t.Errorf("message %q lacks %q", le.Message, w)
				}
			}
		})
	}
}

func TestErrorTable(t *testing.T) {
	want := map[ErrorType]int{InvalidInput: 400, OperationFailure: 400, NotFound: 404, AccessDenied: 403,
		Unauthenticated: 401, AccountSetupInProgress: 428, RegionSetupInProgress: 428, ServiceFailure: 500, NotImplemented: 501}
	for typ, status := range want {
		e := Errorf(typ, "", "x")
		if e.HTTPStatus() != status || e.ErrorType() != string(typ) || e.ErrorCode() != string(typ) || e.ErrorDocs() == "" {
			t.Errorf("%s: status %d type %s code %s docs %q", typ, e.HTTPStatus(), e.ErrorType(), e.ErrorCode(), e.ErrorDocs())
		}
	}
	if got := Errorf("Weird", "", "x").HTTPStatus(); got != 500 {
		t.Errorf("unknown type status %d", got)
	}
}

func TestEveryServedOperationIsInTheModel(t *testing.T) {
	handlers := Handlers(nil)
	known := map[string]bool{}
	for _, op := range AllOperations {
		known[op] = true
	}
	for op := range handlers {
		if !known[op] {
			t.Errorf("served operation %s is not in AllOperations", op)
		}
	}
	if len(AllOperations) < 150 || len(handlers) != 22 {
		t.Errorf("AllOperations %d, handlers %d", len(AllOperations), len(handlers))
	}
}

func TestDoubleAlwaysHasADecimalPoint(t *testing.T) {
	cases := map[float64]string{35: "35.0", 2.5: "2.5", 0: "0.0", 0.000123: "0.000123", 1e21: "1e+21", -4: "-4.0"}
	for v, want := range cases {
		b, err := json.Marshal(Double(v))
		if err != nil || string(b) != want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", v, b, err, want)
		}
		var back Double
		if err := json.Unmarshal(b, &back); err != nil || float64(back) != v {
			t.Errorf("round trip of %s: %v %v", b, back, err)
		}
	}
	if _, err := json.Marshal(Double(math.NaN())); err == nil {
		t.Error("NaN encoded")
	}
}
