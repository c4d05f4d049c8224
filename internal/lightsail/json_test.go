package lightsail

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/awsjson"
)

// randomValue fills v (a pointer to a generated structure) with random members: some absent, some
// empty, strings that need escaping. valid limits strings to valid UTF-8 and times to milliseconds,
// so that the value survives a round trip unchanged.
func randomValue(r *rand.Rand, v reflect.Value, valid bool, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		if r.IntN(4) == 0 || depth > 6 {
			return // absent
		}
		v.Set(reflect.New(v.Type().Elem()))
		randomValue(r, v.Elem(), valid, depth+1)
	case reflect.Struct:
		switch v.Addr().Interface().(type) {
		case *Timestamp:
			ms := r.Int64N(4e12) - 1e12
			t := time.UnixMilli(ms).UTC()
			if !valid {
				t = t.Add(time.Duration(r.IntN(1e6)))
			}
			v.Set(reflect.ValueOf(Timestamp{t}))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			randomValue(r, v.Field(i), valid, depth+1)
		}
	case reflect.Slice:
		switch r.IntN(4) {
		case 0:
			return // nil: absent
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0)) // empty: []
			return
		}
		n := 1 + r.IntN(3)
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := 0; i < n; i++ {
			randomValue(r, v.Index(i), valid, depth+1)
		}
	case reflect.String:
		v.SetString(randomString(r, valid))
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int64:
		v.SetInt(r.Int64() - math.MaxInt64/2)
	case reflect.Float64:
		switch r.IntN(3) {
		case 0:
			v.SetFloat(float64(r.IntN(1000)))
		case 1:
			v.SetFloat(r.NormFloat64() * 1e6)
		default:
			v.SetFloat(math.Float64frombits(r.Uint64()&^(0x7ff<<52) | uint64(r.IntN(0x7fe))<<52))
		}
	default:
		panic("randomValue: " + v.Type().String())
	}
}

var stringParts = []string{"a", "distribution-1", " ", `"`, `\`, "<", ">", "&", "\n", "\t", "\x00", "\x1f", "\x7f",
	"é", "😀", "\u2028", "\u2029", "/", "GET,HEAD"}

func randomString(r *rand.Rand, valid bool) string {
	var b strings.Builder
	for n := r.IntN(5); n > 0; n-- {
		b.WriteString(stringParts[r.IntN(len(stringParts))])
	}
	if !valid && r.IntN(4) == 0 {
		b.WriteString("\xff\xed\xa0\x80") // invalid UTF-8: written as \ufffd
	}
	return b.String()
}

// TestAppendJSONMatchesMarshal: every generated encoder writes exactly json.Marshal's bytes, and
// every generated reader reads them back to the same value.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, proto := range generatedStructures() {
		typ := reflect.TypeOf(proto).Elem()
		t.Run(typ.Name(), func(t *testing.T) {
			for i := 0; i < 200; i++ {
				valid := i%2 == 0
				v := reflect.New(typ)
				randomValue(r, v.Elem(), valid, 0)
				want, err := json.Marshal(v.Interface())
				if err != nil {
					t.Fatal(err)
				}
				got := v.Interface().(awsjson.Appendable).AppendJSON(nil)
				if !bytes.Equal(got, want) {
					t.Fatalf("AppendJSON:\n%s\njson.Marshal:\n%s", got, want)
				}
				if !valid {
					continue
				}
				back := reflect.New(typ)
				d := awsjson.NewDecoder(got)
				if err := back.Interface().(awsjson.Readable).ReadJSON(d); err != nil || d.End() != nil {
					t.Fatalf("ReadJSON(%s): %v", got, err)
				}
				if !reflect.DeepEqual(back.Interface(), v.Interface()) {
					t.Fatalf("round trip of %s changed the value", got)
				}
			}
		})
	}
}

// memberNames are the wire names of every member of every generated structure, by lower case.
var memberNames = func() map[string]string {
	m := map[string]string{}
	for _, proto := range generatedStructures() {
		typ := reflect.TypeOf(proto).Elem()
		for i := 0; i < typ.NumField(); i++ {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			m[strings.ToLower(name)] = name
		}
	}
	return m
}()

// comparable reports whether encoding/json is a fair oracle for data: no object holds a member twice
// (encoding/json merges repeated structures, the generated readers keep the last, see json.go), and
// no key is a member name in other letter case (which encoding/json would match).
func comparable(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			return true // invalid input: both decoders must refuse it
		}
		top := func() *frame {
			if len(stack) == 0 {
				return nil
			}
			return stack[len(stack)-1]
		}
		f := top()
		isKey := f != nil && f.object && f.key
		if f != nil && f.object {
			f.key = !f.key
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{':
				stack = append(stack, &frame{object: true, keys: map[string]bool{}, key: true})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				if f := top(); f != nil && f.object {
					f.key = true
				}
			}
		case string:
			if isKey {
				if f.keys[tok] {
					return false
				}
				f.keys[tok] = true
				if name, ok := memberNames[strings.ToLower(tok)]; ok && name != tok {
					return false
				}
			}
		}
	}
}

// FuzzReadJSONAgreesWithEncodingJSON: for documents that encoding/json reads the same way AWS does
// (see comparable), the generated readers decode what encoding/json decodes, refuse what it
// refuses, and report a member of the wrong type with the same path, JSON type and offset.
// Seeds: testdata/fuzz/FuzzReadJSONAgreesWithEncodingJSON.
func FuzzReadJSONAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"distributionName":"d","origin":{"name":"web-1","regionName":"us-east-1","responseTimeout":30},"bundleId":"small_1_0",
		  "defaultCacheBehavior":{"behavior":"cache"},"cacheBehaviors":[{"path":"/a/*","behavior":"dont-cache"}],
		  "cacheBehaviorSettings":{"defaultTTL":1,"forwardedHeaders":{"option":"allow-list","headersAllowList":["Host"]}},
		  "tags":[{"key":"k","value":"v"}],"customErrorResponses":[{"errorCode":404,"responseCode":"200"}]}`,
		`{"distributionName":"d","startTime":1775001600.5,"endTime":"2026-04-01T00:00:00Z","period":60,"statistics":["Sum"]}`,
		`{"distributionName":5}`, `{"cacheBehaviorSettings":[]}`, `{"tags":[5]}`, `{"tags":[{"key":5}]}`, `{"period":1e400}`,
		`{"period":1.5}`, `{"isEnabled":"yes"}`, `{"startTime":true}`, `{"startTime":"tomorrow"}`, `{"origin":null,"tags":null}`,
		`{"unknown":{"deep":[1,2,{"x":null}]},"distributionName":"d"}`, `{"tags":[]}`, `{"price":35}`, `{"price":-0.0}`,
	} {
		f.Add([]byte(s), uint16(0))
	}
	shapes := generatedStructures()
	f.Fuzz(func(t *testing.T, data []byte, which uint16) {
		if !json.Valid(data) || !comparable(data) {
			return // syntax is FuzzDecoderAgreesWithEncodingJSON's (internal/awsjson)
		}
		typ := reflect.TypeOf(shapes[int(which)%len(shapes)]).Elem()
		ours := reflect.New(typ)
		d := awsjson.NewDecoder(data)
		err := ours.Interface().(awsjson.Readable).ReadJSON(d)
		if err == nil {
			err = d.End()
		}
		theirs := reflect.New(typ)
		jerr := json.Unmarshal(data, theirs.Interface())
		switch {
		case err == nil && jerr == nil:
			if !reflect.DeepEqual(ours.Interface(), theirs.Interface()) {
				t.Fatalf("%s into %s: ours %+v, encoding/json %+v", data, typ.Name(), ours.Elem(), theirs.Elem())
			}
		case err == nil || jerr == nil:
			t.Fatalf("%s into %s: our error %v, encoding/json's %v", data, typ.Name(), err, jerr)
		default:
			var te *json.UnmarshalTypeError
			var ote *awsjson.TypeError
			if errors.As(jerr, &te) && !errors.As(err, &ote) {
				t.Fatalf("%s into %s: our error %v, encoding/json's %v", data, typ.Name(), err, jerr)
			}
			// encoding/json reports the first type error unless an Unmarshaler (Timestamp) fails later,
			// which aborts it; the generated readers stop at the first error of either kind.
			if te != nil && ote != nil && (ote.Field != te.Field || ote.Value != te.Value || ote.Offset != te.Offset) {
				t.Fatalf("%s into %s: our type error %+v, encoding/json's %+v", data, typ.Name(), ote, te)
			}
		}
	})
}
