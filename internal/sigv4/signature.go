package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// StringToSign is
//
//	AWS4-HMAC-SHA256 \n ISO8601 time \n scope \n hex(SHA-256(canonical request))
//
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-string-to-sign
func StringToSign(signed time.Time, scope Scope, canonicalRequest string) string {
	return string(appendStringToSign(nil, signed, scope, []byte(canonicalRequest)))
}

func appendStringToSign(b []byte, signed time.Time, scope Scope, canonicalRequest []byte) []byte {
	b = append(b, Algorithm+"\n"...)
	b = signed.UTC().AppendFormat(b, TimeFormat)
	b = append(b, '\n')
	b = append(b, scope.Date...)
	b = append(b, '/')
	b = append(b, scope.Region...)
	b = append(b, '/')
	b = append(b, scope.Service...)
	b = append(b, '/')
	b = append(b, scope.Terminator...)
	b = append(b, '\n')
	sum := hexSHA256(canonicalRequest)
	return append(b, sum[:]...)
}

// SigningKey derives the key chain HMAC("AWS4"+secret, date) → region → service → "aws4_request".
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#derive-signing-key
func SigningKey(secret string, scope Scope) []byte {
	key := hmacSHA256([]byte("AWS4"+secret), scope.Date)
	key = hmacSHA256(key, scope.Region)
	key = hmacSHA256(key, scope.Service)
	return hmacSHA256(key, scopeTerminator)
}

// Signature is hex(HMAC(signing key, string to sign)).
func Signature(signingKey []byte, stringToSign string) string {
	return hex.EncodeToString(hmacSHA256(signingKey, stringToSign))
}

// signatureMatches compares in constant time so that response timing does not reveal how many
// leading bytes of a forged signature were right. Upper-case hex is accepted: it encodes the same MAC.
func signatureMatches(expected []byte, provided string) bool {
	var got [sha256.Size]byte
	if len(provided) != 2*len(got) {
		return false
	}
	if _, err := hex.Decode(got[:], []byte(provided)); err != nil {
		return false
	}
	return hmac.Equal(expected, got[:])
}

func hmacSHA256(key []byte, data string) []byte {
	return hmacSHA256Bytes(key, []byte(data))
}

func hmacSHA256Bytes(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(make([]byte, 0, sha256.Size))
}
