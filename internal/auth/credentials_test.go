package auth

import (
	"strings"
	"testing"
)

func TestParseCredentials(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    []Key
		wantErr string
	}{
		{
			name: "two profiles, one admin",
			in: `# comment
[default]
aws_access_key_id = AKIAONE
aws_secret_access_key = s3cr3t/one
aws_account_id = 111111111111

[profile ops]
aws_access_key_id=AKIATWO
aws_secret_access_key=two
aws_account_id=222222222222
sailcdn_admin = true
`,
			want: []Key{
				{Profile: "default", AccessKeyID: "AKIAONE", Secret: "s3cr3t/one", AccountID: "111111111111"},
				{Profile: "ops", AccessKeyID: "AKIATWO", Secret: "two", AccountID: "222222222222", Admin: true},
			},
		},
		{name: "missing account", in: "[a]\naws_access_key_id=x\naws_secret_access_key=TOPSECRETVALUE\n", wantErr: "aws_account_id must be 12 digits"},
		{name: "short account", in: "[a]\naws_access_key_id=x\naws_secret_access_key=TOPSECRETVALUE\naws_account_id=123\n", wantErr: "12 digits"},
		{name: "missing secret", in: "[a]\naws_access_key_id=x\naws_account_id=123456789012\n", wantErr: "aws_secret_access_key is missing"},
		{name: "setting before profile", in: "aws_access_key_id=x\n", wantErr: "outside of a [profile]"},
		{name: "empty", in: "\n# nothing\n", wantErr: "no profiles"},
		{name: "repeated profile", in: "[a]\naws_access_key_id=x\naws_secret_access_key=TOPSECRETVALUE\naws_account_id=123456789012\n[a]\n", wantErr: "repeated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCredentials(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "TOPSECRETVALUE") {
					t.Fatalf("error echoes the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d keys, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("key %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestKeyringRejectsDuplicateKeys(t *testing.T) {
	_, err := NewKeyring(Key{AccessKeyID: "A"}, Key{AccessKeyID: "A"})
	if err == nil {
		t.Fatal("duplicate access key ids accepted")
	}
	k, err := NewKeyring(DevKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := k.Lookup("test"); !ok || got.AccountID != "000000000000" {
		t.Fatalf("Lookup(test) = %+v, %v", got, ok)
	}
	if _, ok := k.Lookup("nope"); ok {
		t.Fatal("unknown key found")
	}
}
