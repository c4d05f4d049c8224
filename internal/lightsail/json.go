package lightsail

import (
	"github.com/sailcdn/sailcdn/internal/awsjson"
)

// The readers the generated ReadJSON methods (zz_json.go) call. They read what encoding/json would
// read into the same Go types — null leaves a member nil (an element its zero value), a timestamp
// parses itself (Timestamp.UnmarshalJSON) — with one deliberate difference: a member that occurs
// twice is replaced by its last occurrence as a whole, where encoding/json would merge two
// structures or two lists element by element. AWS's services do not document either; "last one
// wins" is the rule of every JSON parser that does not refuse duplicates (RFC 8259 §4 leaves it open).

func readString(d *awsjson.Decoder, p **string) error {
	if d.Null() {
		*p = nil
		return nil
	}
	s, err := d.String()
	if err != nil {
		return err
	}
	*p = &s
	return nil
}

func readBool(d *awsjson.Decoder, p **bool) error {
	if d.Null() {
		*p = nil
		return nil
	}
	v, err := d.Bool()
	if err != nil {
		return err
	}
	*p = &v
	return nil
}

func readInt(d *awsjson.Decoder, p **int64) error {
	if d.Null() {
		*p = nil
		return nil
	}
	v, err := d.Int64()
	if err != nil {
		return err
	}
	*p = &v
	return nil
}

func readDouble(d *awsjson.Decoder, p **Double) error {
	if d.Null() {
		*p = nil
		return nil
	}
	v, err := d.Float64()
	if err != nil {
		return err
	}
	*p = (*Double)(&v)
	return nil
}

func readTimestamp(d *awsjson.Decoder, p **Timestamp) error {
	if d.Null() {
		*p = nil
		return nil
	}
	raw, err := d.Raw()
	if err != nil {
		return err
	}
	t := new(Timestamp)
	if err := t.UnmarshalJSON(raw); err != nil {
		return err
	}
	*p = t
	return nil
}

// readable is a generated structure type.
type readable[T any] interface {
	*T
	ReadJSON(d *awsjson.Decoder) error
}

func readStruct[T any, PT readable[T]](d *awsjson.Decoder, p **T) error {
	if d.Null() {
		*p = nil
		return nil
	}
	v := new(T)
	if err := PT(v).ReadJSON(d); err != nil {
		return err
	}
	*p = v
	return nil
}

// readList reads a list; an empty JSON array gives an empty, non-nil slice (as encoding/json), which
// the encoder writes back as [].
func readList[T any](d *awsjson.Decoder, p *[]T, elem func(*T) error) error {
	if d.Null() {
		*p = nil
		return nil
	}
	list := []T{}
	err := d.Array(func() error {
		var v T
		if err := elem(&v); err != nil {
			return err
		}
		list = append(list, v)
		return nil
	})
	if err != nil {
		return err
	}
	*p = list
	return nil
}

func readStructElem[T any, PT readable[T]](d *awsjson.Decoder, e *T) error {
	if d.Null() {
		return nil
	}
	return PT(e).ReadJSON(d)
}

func readStringElem(d *awsjson.Decoder, e *string) error {
	if d.Null() {
		return nil
	}
	s, err := d.String()
	*e = s
	return err
}

func readBoolElem(d *awsjson.Decoder, e *bool) error {
	if d.Null() {
		return nil
	}
	v, err := d.Bool()
	*e = v
	return err
}

func readIntElem(d *awsjson.Decoder, e *int64) error {
	if d.Null() {
		return nil
	}
	v, err := d.Int64()
	*e = v
	return err
}

func readDoubleElem(d *awsjson.Decoder, e *Double) error {
	if d.Null() {
		return nil
	}
	v, err := d.Float64()
	*e = Double(v)
	return err
}

func readTimestampElem(d *awsjson.Decoder, e *Timestamp) error {
	if d.Null() {
		return nil
	}
	raw, err := d.Raw()
	if err != nil {
		return err
	}
	return e.UnmarshalJSON(raw)
}
