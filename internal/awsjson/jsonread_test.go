package awsjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// readAny reads any JSON value into the types encoding/json uses for `any`.
func readAny(d *Decoder) (any, error) {
	switch d.peek() {
	case '{':
		m := map[string]any{}
		err := d.Object(func(name []byte) error {
			v, err := readAny(d)
			m[string(name)] = v
			return err
		})
		return m, err
	case '[':
		l := []any{}
		err := d.Array(func() error {
			v, err := readAny(d)
			l = append(l, v)
			return err
		})
		return l, err
	case '"':
		return d.String()
	case 't', 'f':
		return d.Bool()
	case 'n':
		if d.Null() {
			return nil, nil
		}
	}
	return d.Float64()
}

func decodeAny(data []byte) (any, error) {
	d := NewDecoder(data)
	v, err := readAny(d)
	if err == nil {
		err = d.End()
	}
	return v, err
}

// FuzzDecoderAgreesWithEncodingJSON: the Decoder accepts exactly what encoding/json accepts, decodes
// it to the same values, and reports malformed input with the same message and byte offset, and a
// number out of float64's range as the same type error. Valid also agrees with json.Valid.
// Seeds: testdata/fuzz/FuzzDecoderAgreesWithEncodingJSON.
func FuzzDecoderAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1,"b":[true,false,null],"c":{"d":"e\u00e9\ud83d\ude00"}}`, `[1,2.5,-0,1e3,1E-2]`,
		`{"a":1,}`, `[1,]`, `{"a" 1}`, `{"a":1 "b":2}`, `"\x"`, `"\u12g4"`, "\"a\x01\"", `nul`, `nulx`, `1.`,
		`-`, `01`, `1e`, `1e+`, `{} {}`, `  `, ``, `"\ud800"`, `"\ud800\u0041"`, "\"\xff\xfe\"", `1e400`,
		`{"a":nullx}`, `[truex]`, `{"a":"b""c"}`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000), `{"\u0061":1,"a":2}`, `[1:2]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ours, err := decodeAny(data)
		var theirs any
		jerr := json.Unmarshal(data, &theirs)
		if Valid(data) != json.Valid(data) {
			t.Fatalf("Valid(%q) = %v, json.Valid = %v", data, Valid(data), json.Valid(data))
		}
		switch {
		case err == nil && jerr == nil:
			if !reflect.DeepEqual(ours, theirs) {
				t.Fatalf("%q: decoded %#v, encoding/json %#v", data, ours, theirs)
			}
		case err == nil || jerr == nil:
			t.Fatalf("%q: our error %v, encoding/json's %v", data, err, jerr)
		default:
			var se *json.SyntaxError
			var te *json.UnmarshalTypeError
			var ose *SyntaxError
			var ote *TypeError
			switch {
			case errors.As(jerr, &se):
				if !errors.As(err, &ose) || ose.Msg != se.Error() || ose.Offset != se.Offset {
					t.Fatalf("%q: our error %#v, encoding/json's %q at %d", data, err, se.Error(), se.Offset)
				}
			case errors.As(jerr, &te):
				// Decoding into `any`, encoding/json reports an out-of-range number one byte further
				// than into a typed member (it uses its read offset rather than the literal's end);
				// the Decoder serves typed members, whose offsets FuzzReadJSONAgreesWithEncodingJSON
				// (internal/lightsail) compares.
				if !errors.As(err, &ote) || ote.Value != te.Value || ote.Offset+1 != te.Offset {
					t.Fatalf("%q: our error %#v, encoding/json's %+v", data, err, te)
				}
			default:
				t.Fatalf("%q: unexpected encoding/json error %v", data, jerr)
			}
		}
	})
}

// FuzzAppendString: AppendString writes what json.Marshal writes for the same string.
// Seeds: testdata/fuzz/FuzzAppendString.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "\b\f\n\r\t\x00\x1f\x7f",
		"\u2028\u2029", "\xff\xfe invalid", "é 😀", "\xed\xa0\x80 surrogate half"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s, json.Marshal %s", s, got, want)
		}
	})
}

func TestTypeErrorsNameTheMember(t *testing.T) {
	d := NewDecoder([]byte(`{"a": {"b": "x"}}`))
	err := d.Object(func(name []byte) error {
		return InMember("a", d.Object(func([]byte) error {
			_, err := d.Int64()
			return InMember("b", err)
		}))
	})
	var te *TypeError
	if !errors.As(err, &te) || te.Field != "a.b" || te.Value != "string" || te.Want != "an integer" || te.Offset != 15 {
		t.Fatalf("error %#v, want a type error at a.b, offset 15", err)
	}
	if InMember("x", nil) != nil {
		t.Fatal("InMember(nil) is not nil")
	}
}
