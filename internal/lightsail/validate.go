package lightsail

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// problems collects constraint violations with the message shape of AWS's model validation
// ("1 validation error detected: Value null at 'origin' failed to satisfy constraint: Member must not be
// null"), so a developer reading the error sees exactly which member broke which rule of the model.
type problems struct{ list []string }

func (p *problems) at(path, member string) string {
	if path == "" {
		return member
	}
	return path + "." + member
}

// index names list element i the way AWS does: one-based, "tags.1.member".
func (p *problems) index(path string, i int) string {
	return fmt.Sprintf("%s.%d.member", path, i+1)
}

func (p *problems) add(value, path, constraint string) {
	p.list = append(p.list, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", value, path, constraint))
}

func (p *problems) missing(path string) {
	p.add("null", path, "Member must not be null")
}

func (p *problems) enum(path, v string, allowed []string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	p.add(quote(v), path, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

// pattern applies the model's pattern as the model writes it: unanchored unless the pattern anchors
// itself. Anchoring "\w[\w\-]*\w" would reject "my.site", which the real service accepts (reference §2).
func (p *problems) pattern(path, v string, re *regexp.Regexp) {
	if !re.MatchString(v) {
		p.add(quote(v), path, "Member must satisfy regular expression pattern: "+re.String())
	}
}

func (p *problems) length(path, v string, lo, hi int) {
	n := utf8.RuneCountInString(v)
	if lo >= 0 && n < lo {
		p.add(quote(v), path, fmt.Sprintf("Member must have length greater than or equal to %d", lo))
	}
	if hi >= 0 && n > hi {
		p.add(quote(v), path, fmt.Sprintf("Member must have length less than or equal to %d", hi))
	}
}

func (p *problems) count(path string, n, lo, hi int) {
	if lo >= 0 && n < lo {
		p.add(fmt.Sprintf("'%d items'", n), path, fmt.Sprintf("Member must have length greater than or equal to %d", lo))
	}
	if hi >= 0 && n > hi {
		p.add(fmt.Sprintf("'%d items'", n), path, fmt.Sprintf("Member must have length less than or equal to %d", hi))
	}
}

func (p *problems) rangeCheck(path string, v float64, lo, hi *float64) {
	if lo != nil && v < *lo {
		p.add(fmt.Sprintf("'%v'", v), path, fmt.Sprintf("Member must have value greater than or equal to %v", *lo))
	}
	if hi != nil && v > *hi {
		p.add(fmt.Sprintf("'%v'", v), path, fmt.Sprintf("Member must have value less than or equal to %v", *hi))
	}
}

func (p *problems) err() error {
	switch len(p.list) {
	case 0:
		return nil
	case 1:
		return Errorf(InvalidInput, "ValidationError", "1 validation error detected: %s", p.list[0])
	}
	return Errorf(InvalidInput, "ValidationError", "%d validation errors detected: %s", len(p.list), strings.Join(p.list, "; "))
}

func quote(v string) string {
	if len(v) > 256 {
		v = v[:256] + "…"
	}
	return "'" + v + "'"
}

func ptrFloat(v float64) *float64 { return &v }
