package framework

import (
	"encoding/base64"
	"encoding/json"
	"testing"
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
