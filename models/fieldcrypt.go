package models

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// ErrDecrypt means a stored ciphertext could not be opened: the keyset lacks
// the key it was sealed with, or the value was tampered with or moved.
var ErrDecrypt = errors.New("encrypted field: cannot decrypt (wrong ENCRYPTED_FIELD_KEY, or the value was altered or moved)")

// ErrInvalidKeyset means ENCRYPTED_FIELD_KEY is not a usable Tink keyset.
var ErrInvalidKeyset = errors.New("invalid encrypted field keyset")

// FieldCipher seals and opens encrypted columns with a Tink AEAD keyset
// (AES-256-GCM). A keyset may hold several keys: the primary seals, all open,
// which is how keys are rotated.
type FieldCipher struct {
	handle  *keyset.Handle
	aead    tink.AEAD
	primary uint32
}

// tinkPrefixLen is the length of Tink's output prefix: a version byte and
// the 4-byte id of the key that sealed the value.
const tinkPrefixLen = 5

// NewFieldCipher reads a cleartext Tink keyset in JSON, optionally base64
// encoded (as `herald keygen` prints it, so it fits in one env variable).
func NewFieldCipher(encoded string) (*FieldCipher, error) {
	raw := []byte(strings.TrimSpace(encoded))
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrInvalidKeyset)
	}
	if raw[0] != '{' {
		dec, err := base64.StdEncoding.DecodeString(string(raw))
		if err != nil {
			return nil, fmt.Errorf("%w: neither JSON nor base64", ErrInvalidKeyset)
		}
		raw = dec
	}
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(raw)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKeyset, err)
	}
	return newFieldCipher(h)
}

func newFieldCipher(h *keyset.Handle) (*FieldCipher, error) {
	p, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("%w: not an AEAD keyset: %v", ErrInvalidKeyset, err)
	}
	return &FieldCipher{handle: h, aead: p, primary: h.KeysetInfo().GetPrimaryKeyId()}, nil
}

// GenerateKeyset returns a new single-key AES-256-GCM keyset, base64 encoded.
func GenerateKeyset() (string, error) {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return "", fmt.Errorf("generating keyset: %w", err)
	}
	return encodeKeyset(h)
}

// RotateKeyset adds a new AES-256-GCM key to an existing keyset and makes it
// primary. Old keys stay, so existing rows still open; `herald rekey` then
// re-seals them under the new key.
func RotateKeyset(encoded string) (string, error) {
	c, err := NewFieldCipher(encoded)
	if err != nil {
		return "", err
	}
	m := keyset.NewManagerFromHandle(c.handle)
	id, err := m.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		return "", fmt.Errorf("adding key: %w", err)
	}
	if err := m.SetPrimary(id); err != nil {
		return "", fmt.Errorf("setting primary key: %w", err)
	}
	h, err := m.Handle()
	if err != nil {
		return "", fmt.Errorf("building keyset: %w", err)
	}
	return encodeKeyset(h)
}

func encodeKeyset(h *keyset.Handle) (string, error) {
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)); err != nil {
		return "", fmt.Errorf("writing keyset: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// Seal encrypts plaintext bound to associatedData.
func (c *FieldCipher) Seal(plaintext, associatedData []byte) ([]byte, error) {
	ct, err := c.aead.Encrypt(plaintext, associatedData)
	if err != nil {
		return nil, fmt.Errorf("encrypted field: sealing: %w", err)
	}
	return ct, nil
}

// Open decrypts a value sealed with the same associatedData.
func (c *FieldCipher) Open(ciphertext, associatedData []byte) ([]byte, error) {
	pt, err := c.aead.Decrypt(ciphertext, associatedData)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// SealedWithPrimary reports whether ciphertext was sealed by the primary key,
// so a rekey can skip rows that are already current.
func (c *FieldCipher) SealedWithPrimary(ciphertext []byte) bool {
	if len(ciphertext) < tinkPrefixLen {
		return false
	}
	return binary.BigEndian.Uint32(ciphertext[1:tinkPrefixLen]) == c.primary
}
