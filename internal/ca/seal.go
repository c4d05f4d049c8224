package ca

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of a key-encryption key: AES-256.
const KeySize = 32

// Sealer protects private keys at rest: each key is encrypted with AES-256-GCM under the operator's
// key-encryption key (KEK), with a fresh random nonce and, as additional data, the identity of the row
// it belongs to, so a sealed key copied into another row does not open. The KEK lives outside the
// database (a file, see LoadOrCreateKEK): a copy of the database alone yields no private key.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a KeySize-byte KEK.
func NewSealer(kek []byte) (*Sealer, error) {
	if len(kek) != KeySize {
		return nil, fmt.Errorf("ca: the key-encryption key must be %d bytes, not %d", KeySize, len(kek))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// sealedPrefix versions the format: "v1:" + base64(nonce || ciphertext of the PKCS #8 key).
const sealedPrefix = "v1:"

// ErrWrongKEK is returned by Open when a sealed key does not open: it was sealed under another
// key-encryption key (or for another row).
var ErrWrongKEK = errors.New("ca: a private key in the store does not open with this key-encryption key; every process sharing a database needs the same --key-encryption-key file")

// Seal encrypts key for the row named aad.
func (s *Sealer) Seal(key crypto.Signer, aad string) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("ca: encode private key: %w", err)
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(der)+s.aead.Overhead())
	_, _ = rand.Read(nonce)
	out := s.aead.Seal(nonce, nonce, der, []byte(aad))
	clear(der)
	return sealedPrefix + base64.StdEncoding.EncodeToString(out), nil
}

// Open decrypts a key sealed for the row named aad.
func (s *Sealer) Open(sealed, aad string) (crypto.Signer, error) {
	b64, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return nil, errors.New("ca: sealed key has an unknown format")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return nil, errors.New("ca: sealed key is malformed")
	}
	der, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], []byte(aad))
	if err != nil {
		return nil, ErrWrongKEK
	}
	defer clear(der)
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("ca: sealed key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("ca: sealed key is not a signing key")
	}
	return signer, nil
}

// LoadOrCreateKEK reads the key-encryption key from path (base64 of KeySize bytes, or the raw bytes),
// creating it with a random key and mode 0600 when the file does not exist. Nodes starting together on
// one directory may all create it at once: the key is written to a file of its own and linked into
// place only when complete, so exactly one key wins and nobody reads a half-written file.
func LoadOrCreateKEK(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return createKEK(path)
	}
	if err != nil {
		return nil, fmt.Errorf("ca: read key-encryption key: %w", err)
	}
	if len(b) == KeySize {
		return b, nil
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("ca: %s must hold %d bytes, base64-encoded (head -c %d /dev/urandom | base64)", path, KeySize, KeySize)
	}
	return key, nil
}

// createKEK writes a new random key at path, unless another process got there first (then its key).
func createKEK(path string) ([]byte, error) {
	key := make([]byte, KeySize)
	_, _ = rand.Read(key)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".kek-*")
	if err != nil {
		return nil, fmt.Errorf("ca: create key-encryption key: %w", err)
	}
	defer os.Remove(f.Name())
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("ca: write key-encryption key: %w", werr)
	}
	// CreateTemp's mode is 0600 already. Link fails if path exists: it never replaces a key.
	if err := os.Link(f.Name(), path); errors.Is(err, os.ErrExist) {
		return LoadOrCreateKEK(path) // another process created it first
	} else if err != nil {
		return nil, fmt.Errorf("ca: create key-encryption key: %w", err)
	}
	return key, nil
}
