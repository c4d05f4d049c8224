package httpcache

import (
	"strings"
	"time"
)

// parseHTTPDate parses an HTTP-date (RFC 9110 §5.6.7): the preferred IMF-fixdate and the two
// obsolete forms (rfc850-date, asctime-date) that recipients MUST accept. Layout is checked
// strictly (single spaces, two-digit hour, four-digit year in IMF-fixdate, "GMT" only) because an
// invalid Expires must mean "already expired" (RFC 9111 §5.3) rather than a guessed date; day and
// month names and "GMT" are matched case-insensitively, as the grammar's literals are
// case-insensitive (RFC 5234 §2.3). now resolves rfc850's two-digit year (RFC 9110 §5.6.7).
func parseHTTPDate(s string, now time.Time) (time.Time, bool) {
	switch {
	case len(s) == 29 && s[3] == ',':
		return parseIMFFixdate(s)
	case len(s) == 24 && s[3] == ' ':
		return parseASCTime(s)
	default:
		return parseRFC850(s, now)
	}
}

var monthNames = [12]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

var dayNames = [7]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

var longDayNames = [7]string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

func isDayName(s string) bool {
	for _, d := range dayNames {
		if strings.EqualFold(s, d) {
			return true
		}
	}
	return false
}

func parseMonth(s string) (time.Month, bool) {
	for i, m := range monthNames {
		if strings.EqualFold(s, m) {
			return time.Month(i + 1), true
		}
	}
	return 0, false
}

// digits parses a fixed-width run of ASCII digits.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// parseClock parses "HH:MM:SS".
func parseClock(s string) (h, m, sec int, ok bool) {
	if len(s) != 8 || s[2] != ':' || s[5] != ':' {
		return 0, 0, 0, false
	}
	h, ok1 := digits(s[0:2])
	m, ok2 := digits(s[3:5])
	sec, ok3 := digits(s[6:8])
	// RFC 9110 §5.6.7 allows second 60 (leap second); hours and minutes must be in range.
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 60 {
		return 0, 0, 0, false
	}
	return h, m, sec, true
}

// mkDate builds the UTC time, rejecting days that do not exist in the month (31 Feb).
func mkDate(year int, month time.Month, day, h, m, sec int) (time.Time, bool) {
	if day < 1 || day > 31 {
		return time.Time{}, false
	}
	t := time.Date(year, month, day, h, m, sec, 0, time.UTC)
	if t.Day() != day && sec != 60 {
		return time.Time{}, false
	}
	return t, true
}

// parseIMFFixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
func parseIMFFixdate(s string) (time.Time, bool) {
	if !isDayName(s[0:3]) || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[25] != ' ' {
		return time.Time{}, false
	}
	day, ok := digits(s[5:7])
	if !ok {
		return time.Time{}, false
	}
	month, ok := parseMonth(s[8:11])
	if !ok {
		return time.Time{}, false
	}
	year, ok := digits(s[12:16])
	if !ok {
		return time.Time{}, false
	}
	h, m, sec, ok := parseClock(s[17:25])
	if !ok || !strings.EqualFold(s[26:29], "GMT") {
		return time.Time{}, false
	}
	return mkDate(year, month, day, h, m, sec)
}

// parseASCTime: "Sun Nov  6 08:49:37 1994" (day is two digits or a space and one digit).
func parseASCTime(s string) (time.Time, bool) {
	if !isDayName(s[0:3]) || s[7] != ' ' || s[10] != ' ' || s[19] != ' ' {
		return time.Time{}, false
	}
	month, ok := parseMonth(s[4:7])
	if !ok {
		return time.Time{}, false
	}
	dayField := s[8:10]
	if dayField[0] == ' ' {
		dayField = dayField[1:]
	}
	day, ok := digits(dayField)
	if !ok {
		return time.Time{}, false
	}
	h, m, sec, ok := parseClock(s[11:19])
	if !ok {
		return time.Time{}, false
	}
	year, ok := digits(s[20:24])
	if !ok {
		return time.Time{}, false
	}
	return mkDate(year, month, day, h, m, sec)
}

// parseRFC850: "Sunday, 06-Nov-94 08:49:37 GMT".
func parseRFC850(s string, now time.Time) (time.Time, bool) {
	comma := strings.IndexByte(s, ',')
	if comma < 0 {
		return time.Time{}, false
	}
	known := false
	for _, d := range longDayNames {
		if strings.EqualFold(s[:comma], d) {
			known = true
			break
		}
	}
	rest := s[comma+1:]
	// rest: " 06-Nov-94 08:49:37 GMT" (23 bytes)
	if !known || len(rest) != 23 || rest[0] != ' ' || rest[3] != '-' || rest[7] != '-' || rest[10] != ' ' || rest[19] != ' ' {
		return time.Time{}, false
	}
	day, ok := digits(rest[1:3])
	if !ok {
		return time.Time{}, false
	}
	month, ok := parseMonth(rest[4:7])
	if !ok {
		return time.Time{}, false
	}
	yy, ok := digits(rest[8:10])
	if !ok {
		return time.Time{}, false
	}
	h, m, sec, ok := parseClock(rest[11:19])
	if !ok || !strings.EqualFold(rest[20:23], "GMT") {
		return time.Time{}, false
	}
	// RFC 9110 §5.6.7: a two-digit year that appears more than 50 years in the future is the
	// most recent past year with the same last two digits.
	century := now.UTC().Year() / 100 * 100
	year := century + yy
	if year > now.UTC().Year()+50 {
		year -= 100
	}
	return mkDate(year, month, day, h, m, sec)
}
