// Package auth owns who may call sailcdn: the keyring of access keys (from an AWS shared-credentials
// file, or the built-in developer key), and the rule that decides which of them may use the admin
// endpoints. Verifying signatures is sigv4's job; this package only answers "whose key is this".
package auth

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Key is one access key and what it belongs to. Secret is never logged or printed.
type Key struct {
	Profile     string
	AccessKeyID string
	Secret      string
	AccountID   string
	Admin       bool // may call /_sailcdn/ admin endpoints (profile setting sailcdn_admin = true)
}

// Keyring maps access key ids to keys. It is immutable after construction.
type Keyring struct {
	keys map[string]Key
}

// DevKey is the built-in developer credential of --dev mode.
var DevKey = Key{Profile: "dev", AccessKeyID: "test", Secret: "test", AccountID: "000000000000", Admin: true}

// NewKeyring builds a keyring; duplicate access key ids are an error.
func NewKeyring(keys ...Key) (*Keyring, error) {
	k := &Keyring{keys: map[string]Key{}}
	for _, key := range keys {
		if _, dup := k.keys[key.AccessKeyID]; dup {
			return nil, fmt.Errorf("access key id %q appears in more than one profile", key.AccessKeyID)
		}
		k.keys[key.AccessKeyID] = key
	}
	return k, nil
}

// Lookup returns the key with the given access key id.
func (k *Keyring) Lookup(accessKeyID string) (Key, bool) {
	key, ok := k.keys[accessKeyID]
	return key, ok
}

// Len is the number of keys.
func (k *Keyring) Len() int { return len(k.keys) }

var accountIDRule = regexp.MustCompile(`^[0-9]{12}$`)

// ParseCredentials reads an AWS shared-credentials INI file in which every profile carries
// aws_access_key_id, aws_secret_access_key and aws_account_id (12 digits), and optionally
// sailcdn_admin = true. Errors name the line and profile but never echo a secret.
func ParseCredentials(r io.Reader) ([]Key, error) {
	var keys []Key
	var cur *Key
	seen := map[string]bool{}
	finish := func() error {
		if cur == nil {
			return nil
		}
		switch {
		case cur.AccessKeyID == "":
			return fmt.Errorf("profile [%s]: aws_access_key_id is missing", cur.Profile)
		case cur.Secret == "":
			return fmt.Errorf("profile [%s]: aws_secret_access_key is missing", cur.Profile)
		case !accountIDRule.MatchString(cur.AccountID):
			return fmt.Errorf("profile [%s]: aws_account_id must be 12 digits", cur.Profile)
		}
		keys = append(keys, *cur)
		return nil
	}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") || strings.HasPrefix(text, ";") {
			continue
		}
		if strings.HasPrefix(text, "[") {
			if !strings.HasSuffix(text, "]") {
				return nil, fmt.Errorf("line %d: malformed profile header", line)
			}
			if err := finish(); err != nil {
				return nil, err
			}
			name := strings.TrimSpace(strings.TrimPrefix(text[1:len(text)-1], "profile "))
			if name == "" || seen[name] {
				return nil, fmt.Errorf("line %d: empty or repeated profile name %q", line, name)
			}
			seen[name] = true
			cur = &Key{Profile: name}
			continue
		}
		k, v, ok := strings.Cut(text, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: expected key = value", line)
		}
		if cur == nil {
			return nil, fmt.Errorf("line %d: setting outside of a [profile]", line)
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch k {
		case "aws_access_key_id":
			cur.AccessKeyID = v
		case "aws_secret_access_key":
			cur.Secret = v
		case "aws_account_id":
			cur.AccountID = v
		case "sailcdn_admin":
			cur.Admin = strings.EqualFold(v, "true")
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := finish(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no profiles found")
	}
	return keys, nil
}
