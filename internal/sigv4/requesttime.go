package sigv4

import (
	"fmt"
	"net/http"
	"time"
)

// TimeFormat is the ISO-8601 basic format of X-Amz-Date and of the string to sign.
const TimeFormat = "20060102T150405Z"

// DateFormat is the YYYYMMDD form used in the credential scope.
const DateFormat = "20060102"

// RequestTime reads the time the client signed at: X-Amz-Date (ISO-8601 basic), else the HTTP Date
// header (RFC 9110 §5.6.7). SigV4 allows either; every current SDK sends X-Amz-Date.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#add-signature-to-request
func RequestTime(r *http.Request) (time.Time, error) {
	if v := r.Header.Get("X-Amz-Date"); v != "" {
		return parseAmzDate(v)
	}
	if v := r.Header.Get("Date"); v != "" {
		t, err := http.ParseTime(v)
		if err != nil {
			return time.Time{}, incomplete("Date header '%s' is not an HTTP date.", quoteShort(v))
		}
		return t.UTC(), nil
	}
	return time.Time{}, incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
}

func parseAmzDate(v string) (time.Time, error) {
	t, err := time.Parse(TimeFormat, v)
	if err != nil {
		return time.Time{}, incomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", quoteShort(v))
	}
	return t, nil
}

// checkSkew refuses a signing time more than skew away from now, with AWS's own messages
// (InvalidSignatureException "Signature expired: ..." / "Signature not yet current: ...").
// A replayed request is only useful to an attacker inside this window.
func checkSkew(signed, now time.Time, skew time.Duration) error {
	now = now.UTC()
	if earliest := now.Add(-skew); signed.Before(earliest) {
		return invalidSignature("Signature expired: %s is now earlier than %s (%s - %s)",
			signed.Format(TimeFormat), earliest.Format(TimeFormat), now.Format(TimeFormat), skewText(skew))
	}
	if latest := now.Add(skew); signed.After(latest) {
		return invalidSignature("Signature not yet current: %s is still later than %s (%s + %s)",
			signed.Format(TimeFormat), latest.Format(TimeFormat), now.Format(TimeFormat), skewText(skew))
	}
	return nil
}

// skewText renders the window as AWS does ("15 min.").
func skewText(skew time.Duration) string {
	if skew%time.Minute == 0 {
		return fmt.Sprintf("%d min.", skew/time.Minute)
	}
	return skew.String()
}
