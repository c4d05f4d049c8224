package awsjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"reflect"
)

// acceptedContentTypes: AWS JSON 1.1 is what every SDK sends to this protocol; 1.0 and plain
// application/json are accepted too because hand-written clients (curl, scripts) send them and the
// body format is identical.
var acceptedContentTypes = map[string]bool{
	"application/x-amz-json-1.1": true,
	"application/x-amz-json-1.0": true,
	"application/json":           true,
}

// checkContentType accepts a missing Content-Type (the body is JSON regardless) and the JSON types
// above with any parameters (e.g. charset); anything else is a SerializationException, since the
// body would not be read as what the client meant.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !acceptedContentTypes[mt] {
		return SerializationError("Content-Type %q is not supported; send application/x-amz-json-1.1.", truncate(ct))
	}
	return nil
}

// normalizeBody checks that the body is one JSON object (an empty body means {}, as the SDKs send
// for operations without input) and returns what handlers decode. Checking here, before any handler
// runs, means a handler that ignores its input still never answers 200 to garbage.
func normalizeBody(body []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return []byte("{}"), nil
	}
	if trimmed[0] != '{' {
		return nil, SerializationError("Request body must be a JSON object.")
	}
	if !Valid(trimmed) {
		// encoding/json agrees on what is valid (FuzzDecoderAgreesWithEncodingJSON) and words the
		// message; the slow path runs only for bodies that are refused anyway.
		if err := json.Unmarshal(trimmed, new(struct{})); err != nil {
			return nil, decodeError(err)
		}
		return nil, SerializationError("Malformed JSON.")
	}
	return trimmed, nil
}

// Readable is implemented by wire types that read themselves from a Decoder (the Lightsail types
// generated from the model): member names then match exactly, as AWS JSON requires.
type Readable interface {
	ReadJSON(d *Decoder) error
}

// Appendable is implemented by wire types that encode themselves (the generated Lightsail types),
// byte for byte as encoding/json would, without reflection.
type Appendable interface {
	AppendJSON(b []byte) []byte
}

// decoder returns the decode function handed to a Handler: a Readable reads itself; anything else is
// decoded by encoding/json. body has been checked by normalizeBody.
func decoder(body []byte) func(v any) error {
	return func(v any) error {
		if r, ok := v.(Readable); ok {
			d := NewDecoder(body)
			if err := r.ReadJSON(d); err != nil {
				return decodeError(err)
			}
			return decodeError(d.End())
		}
		if err := json.Unmarshal(body, v); err != nil {
			return decodeError(err)
		}
		return nil
	}
}

// decodeError turns encoding/json's errors into a SerializationException that says where the input
// went wrong. An APIError from a member's own UnmarshalJSON passes through unchanged; misuse of the
// decoder (a non-pointer target) is a server bug and stays a plain error, i.e. a 500.
func decodeError(err error) error {
	if err == nil {
		return nil
	}
	var (
		apiErr     APIError
		syntaxErr  *json.SyntaxError
		typeErr    *json.UnmarshalTypeError
		invalid    *json.InvalidUnmarshalError
		ourSyntax  *SyntaxError
		ourTypeErr *TypeError
	)
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &ourTypeErr):
		if ourTypeErr.Field == "" {
			return SerializationError("Cannot read JSON %s as %s at byte offset %d.", ourTypeErr.Value, ourTypeErr.Want, ourTypeErr.Offset)
		}
		return SerializationError("Member '%s': cannot read JSON %s as %s (byte offset %d).", ourTypeErr.Field, ourTypeErr.Value, ourTypeErr.Want, ourTypeErr.Offset)
	case errors.As(err, &ourSyntax):
		return SerializationError("Malformed JSON at byte offset %d: %s.", ourSyntax.Offset, ourSyntax.Msg)
	case errors.As(err, &syntaxErr):
		return SerializationError("Malformed JSON at byte offset %d: %s.", syntaxErr.Offset, syntaxErr.Error())
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return SerializationError("Cannot read JSON %s as %s at byte offset %d.", typeErr.Value, jsonKind(typeErr.Type), typeErr.Offset)
		}
		return SerializationError("Member '%s': cannot read JSON %s as %s (byte offset %d).", typeErr.Field, typeErr.Value, jsonKind(typeErr.Type), typeErr.Offset)
	case errors.As(err, &invalid):
		return err
	default:
		return SerializationError("Cannot read request body: %s.", err.Error())
	}
}

// jsonKind names the JSON type a Go type is read from, so messages speak the client's language
// rather than naming our Go types.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a structure"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	default:
		return t.String()
	}
}

// truncate bounds client input echoed in messages.
func truncate(s string) string {
	const max = 128
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
