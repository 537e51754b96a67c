package verify

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"testing"

	"github.com/idpconform/idpconform/internal/hostile"
	"github.com/idpconform/idpconform/internal/strictjson"
)

// FuzzVerifySigned fuzzes the header and payload of tokens that carry a
// valid signature of the issuer's key, so the fuzzer reaches what FuzzVerify
// cannot: header and claim handling after the signature check. Nothing
// panics; a token that verifies has an allowed alg, a clean payload and the
// expected issuer, and is not expired.
func FuzzVerifySigned(f *testing.F) {
	k := newRSAKey(f, "k1")
	priv := k.priv.Key.(*rsa.PrivateKey)
	v := verifier(k.public())
	f.Add([]byte(`{"alg":"RS256","kid":"k1"}`), []byte(`{"iss":"https://idp.example","exp":1713902079}`))
	f.Add([]byte(`{"alg":"RS256","kid":"k1","crit":["b64"],"b64":false}`), []byte(`{"iss":"https://idp.example","exp":1713902079}`))
	f.Add([]byte(`{"alg":"RS256","kid":"k1","jku":"http://127.0.0.1:1/jwks"}`), []byte(`{"iss":"https://idp.example","exp":1713902079,"exp":1}`))
	f.Add([]byte(`{"alg":"RS256","alg":"none"}`), []byte("{\"iss\":\"https://idp.example\",\"n\":\"\xff\"}"))
	f.Add([]byte(`{"alg":"HS256","kid":"k1"}`), []byte(`{"iss":"https://idp.example","exp":1e400,"nbf":-1}`))
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		tok, err := hostile.Forge(header, payload, hostile.RS256(priv))
		if err != nil {
			t.Skip()
		}
		got, err := v.Verify(context.Background(), tok, Expected{Issuer: "https://idp.example"})
		if err != nil {
			if got != nil && got.Claims == nil {
				t.Errorf("token without claims returned with %v", err)
			}
			return
		}
		if got.Header.Alg != "RS256" {
			t.Errorf("verified alg %q", got.Header.Alg)
		}
		if ps := strictjson.Check(payload); len(ps) > 0 {
			t.Errorf("verified a payload with problems: %v", ps)
		}
		if ps := strictjson.Check(header); len(ps) > 0 {
			t.Errorf("verified a header with problems: %v", ps)
		}
		var h map[string]json.RawMessage
		if json.Unmarshal(header, &h) == nil {
			if _, ok := h["crit"]; ok {
				t.Errorf("verified a token with crit: %s", header)
			}
		}
		if _, err := StringClaim(got.Claims, "iss"); err != nil {
			t.Errorf("verified without iss: %v", err)
		}
	})
}
