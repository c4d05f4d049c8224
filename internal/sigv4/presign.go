package sigv4

import (
	"net/url"
	"strconv"
	"time"
)

// maxPresignExpiry is the longest X-Amz-Expires SigV4 allows: seven days.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
const maxPresignExpiry = 7 * 24 * time.Hour

// Presigned is SigV4 carried in the query string instead of the Authorization header.
type Presigned struct {
	Authorization
	Time    time.Time     // X-Amz-Date
	Expires time.Duration // X-Amz-Expires
}

// ParsePresigned reads the X-Amz-* query parameters of a presigned request. All six are required
// (X-Amz-Security-Token stays optional): a presigned URL without an expiry would be valid forever.
func ParsePresigned(q url.Values) (*Presigned, error) {
	for _, key := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"} {
		if len(q[key]) != 1 || q.Get(key) == "" {
			return nil, incomplete("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, " +
				"X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters, each exactly once.")
		}
	}
	if alg := q.Get("X-Amz-Algorithm"); alg != Algorithm {
		return nil, incomplete("Unsupported AWS 'algorithm': '%s'.", quoteShort(alg))
	}
	p := &Presigned{Authorization: Authorization{Algorithm: Algorithm, Signature: q.Get("X-Amz-Signature")}}
	if err := p.setCredential(q.Get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	if err := p.setSignedHeaders(q.Get("X-Amz-SignedHeaders")); err != nil {
		return nil, err
	}
	t, err := parseAmzDate(q.Get("X-Amz-Date"))
	if err != nil {
		return nil, err
	}
	p.Time = t
	secs, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	if err != nil || secs <= 0 || secs > int64(maxPresignExpiry/time.Second) {
		return nil, incomplete("X-Amz-Expires must be a whole number of seconds from 1 to %d, got '%s'.",
			int64(maxPresignExpiry/time.Second), quoteShort(q.Get("X-Amz-Expires")))
	}
	p.Expires = time.Duration(secs) * time.Second
	return p, nil
}
