package framework

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/idpconform/idpconform/internal/contract"
)

func seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestDecodeJWT(t *testing.T) {
	raw := seg(`{"alg":"ES256","kid":"k1"}`) + "." + seg(`{"sub":"x","exp":17954262000000000001}`) + ".c2ln"
	h, c, ok := decodeJWT(raw)
	if !ok {
		t.Fatal("a compact JWS was not decoded")
	}
	if h["kid"] != "k1" || c["sub"] != "x" {
		t.Errorf("header %v claims %v", h, c)
	}
	// Numbers keep every digit (float64 would round this one).
	if c["exp"] != json.Number("17954262000000000001") {
		t.Errorf("exp = %v", c["exp"])
	}
	for name, bad := range map[string]string{
		"opaque":             "Zm9vYmFyYmF6",
		"two parts":          seg(`{"alg":"none"}`) + "." + seg(`{}`),
		"bad base64":         "%%%." + seg(`{}`) + ".x",
		"header not object":  seg(`[1]`) + "." + seg(`{}`) + ".x",
		"payload not object": seg(`{"alg":"ES256"}`) + "." + seg(`"text"`) + ".x",
		"payload not JSON":   seg(`{"alg":"ES256"}`) + "." + seg(`nope`) + ".x",
	} {
		if _, _, ok := decodeJWT(bad); ok {
			t.Errorf("%s: decoded", name)
		}
	}
}

// contractCopy keeps every rule of a claim for the report, min_entropy
// included; a rule without one copies as zero.
func TestContractCopyKeepsFloors(t *testing.T) {
	ct, err := contract.Parse("c.yaml", []byte("name: c\nkind: token_response\nclaims:\n  access_token: {type: string, presence: mandatory, min_entropy: 96, min_length: 16}\n  scope: {type: string}\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := contractCopy(ct)
	if r := got.Claims["access_token"]; r.MinEntropy != 96 || r.MinLength != 16 || r.Presence != "mandatory" {
		t.Errorf("access_token: %+v", r)
	}
	if r := got.Claims["scope"]; r.MinEntropy != 0 || r.Presence != "optional" {
		t.Errorf("scope: %+v", r)
	}
}
