package baseline

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// SubKeyEnv is the environment variable holding the HMAC key of keyed
// hashes, so that baselines captured at different times compare.
const SubKeyEnv = "IDPCONFORM_SUB_KEY"

// MinKeyBytes is the shortest key accepted: the key is what keeps a sub from
// being found by hashing guesses, so it must not be guessable itself.
const MinKeyBytes = 16

// Hasher computes the keyed hashes of a baseline. The key is held in memory
// only; a baseline records its ID, never the key.
type Hasher struct {
	key    []byte
	source string
}

// NewHasher uses key; source says where it came from (KeyProvided or
// KeyGenerated).
func NewHasher(key []byte, source string) (*Hasher, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("sub key has %d bytes; at least %d are needed (e.g. openssl rand -hex 32)", len(key), MinKeyBytes)
	}
	return &Hasher{key: append([]byte(nil), key...), source: source}, nil
}

// GenerateHasher makes a random key for this process only. Hashes made with
// it compare within the process (both sides of one diff) and with nothing
// else: the key is not stored anywhere.
func GenerateHasher() (*Hasher, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate sub key: %w", err)
	}
	return &Hasher{key: key, source: KeyGenerated}, nil
}

// ParseKey reads a key as written in a key file or the environment: hex
// (64 digits for 32 bytes) or any other text, used as its bytes. Surrounding
// white space is ignored.
func ParseKey(text string) []byte {
	t := strings.TrimSpace(text)
	if b, err := hex.DecodeString(t); err == nil && len(b) >= MinKeyBytes {
		return b
	}
	return []byte(t)
}

// Sum returns the keyed hash of value under a label that separates uses
// (a sub and a user name never hash alike).
func (h *Hasher) Sum(label, value string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte("idpconform/" + label))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Key returns the key's identity for the baseline.
func (h *Hasher) Key() SubKey {
	return SubKey{ID: h.Sum("key-id", "")[:12], Source: h.source}
}
