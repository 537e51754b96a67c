package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

func TestStringReplacesRegisteredValues(t *testing.T) {
	r := New()
	r.Add("s3cret-value", "abc") // "abc" is too short to register
	got := r.String("secret=s3cret-value and abc")
	if strings.Contains(got, "s3cret-value") {
		t.Errorf("secret kept: %q", got)
	}
	if !strings.Contains(got, "abc") {
		t.Errorf("short value was redacted, blanking ordinary text: %q", got)
	}
	// The failing twin: an unregistered value passes through.
	if got := r.String("other-value"); got != "other-value" {
		t.Errorf("unregistered value changed: %q", got)
	}
}

func TestSpellings(t *testing.T) {
	r := New()
	secret := `pa ss&w"rd/+`
	r.Add(secret)
	form := "client_secret=" + urlEscape(secret)
	js, _ := json.Marshal(map[string]string{"s": secret})
	for _, in := range []string{secret, form, string(js)} {
		out := r.String(in)
		if strings.Contains(out, "w") && strings.Contains(out, "rd") && !strings.Contains(out, Marker) {
			t.Errorf("spelling not redacted: %q -> %q", in, out)
		}
		if !strings.Contains(out, Marker) {
			t.Errorf("no marker in %q", out)
		}
	}
}

func urlEscape(s string) string { return queryEscape(s) }

func TestLongestFirst(t *testing.T) {
	r := New()
	r.Add("token-1234", "token-1234-extended")
	got := r.String("x token-1234-extended y")
	if got != "x "+Marker+" y" {
		t.Errorf("got %q", got)
	}
}

func TestJWSShapeMasked(t *testing.T) {
	jws := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	got := New().String("token " + jws + " end")
	if strings.Contains(got, "eyJzdWIi") {
		t.Errorf("JWS kept: %q", got)
	}
	// Not every dotted string is a JWS.
	if got := New().String("example.com.au"); got != "example.com.au" {
		t.Errorf("host name masked: %q", got)
	}
}

func TestWriter(t *testing.T) {
	r := New()
	r.Add("hunter2-secret")
	var buf bytes.Buffer
	w := r.Writer(&buf)
	n, err := fmt.Fprintf(w, "password: %s\n", "hunter2-secret")
	if err != nil || n != len("password: hunter2-secret\n") {
		t.Errorf("Write returned %d, %v", n, err)
	}
	if strings.Contains(buf.String(), "hunter2") {
		t.Errorf("writer leaked: %q", buf.String())
	}
}

func TestAddAfterUseRebuildsReplacer(t *testing.T) {
	r := New()
	r.Add("first-secret")
	_ = r.String("warm the replacer")
	r.Add("second-secret")
	if got := r.String("second-secret"); got != Marker {
		t.Errorf("value added after first use kept: %q", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	r := New()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				v := fmt.Sprintf("secret-%d-%d", i, j)
				r.Add(v)
				if got := r.String(v); got != Marker {
					t.Errorf("%s not redacted: %q", v, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestSecretNeverPrints(t *testing.T) {
	s := NewSecret("do-not-print-me")
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("x", "secret", s)
	js, _ := json.Marshal(struct{ S Secret }{s})
	txt, _ := s.MarshalText()
	outs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s),
		string(js), string(txt), logBuf.String(), s.GomegaString(), s.GoString(),
	}
	for _, o := range outs {
		if strings.Contains(o, "do-not-print-me") {
			t.Errorf("secret printed: %q", o)
		}
	}
	if s.Reveal() != "do-not-print-me" || s.IsZero() || !NewSecret("").IsZero() {
		t.Error("Reveal/IsZero wrong")
	}
}

func FuzzRegistry(f *testing.F) {
	f.Add("secret-value", "text with secret-value inside")
	f.Add("a&b=c", "x=a%26b%3Dc")
	f.Fuzz(func(t *testing.T, secret, text string) {
		r := New()
		r.Add(secret)
		out := r.String(text + secret)
		// A secret may be a substring of the marker itself; that is no leak.
		if len(secret) >= minLen && strings.Contains(strings.ReplaceAll(out, Marker, "\x00"), secret) {
			t.Errorf("secret %q survived in %q", secret, out)
		}
	})
}
