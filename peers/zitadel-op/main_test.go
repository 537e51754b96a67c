package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

func TestLoopbackAddr(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:18082", "127.0.0.2:0", "[::1]:9000"} {
		if _, _, err := loopbackAddr(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"0.0.0.0:18082", "10.0.0.1:80", "localhost:80", ":80", "127.0.0.1"} {
		if _, _, err := loopbackAddr(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func fullEnv() map[string]string {
	m := map[string]string{}
	for _, c := range clientConfigs {
		m[c.secretEnv] = "secret-of-" + c.id
	}
	for _, u := range userConfigs {
		m[u.passwordEnv] = "password-of-" + u.username
	}
	return m
}

func TestLoadConfigNamesEveryMissingVariable(t *testing.T) {
	if _, err := loadConfig(env(fullEnv())); err != nil {
		t.Fatalf("complete environment refused: %v", err)
	}
	m := fullEnv()
	delete(m, "PEER_CC_SECRET")
	m["PEER_BOB_PASSWORD"] = ""
	_, err := loadConfig(env(m))
	if err == nil {
		t.Fatal("missing variables accepted")
	}
	for _, want := range []string{"PEER_CC_SECRET", "PEER_BOB_PASSWORD"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "password-of-") || strings.Contains(err.Error(), "secret-of-") {
		t.Errorf("error holds a secret: %v", err)
	}
}

// newTestStorage returns a storage with a fixed clock the test moves.
func newTestStorage(t *testing.T) (*storage, *time.Time) {
	t.Helper()
	cfg, err := loadConfig(env(fullEnv()))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	s, err := newStorage(cfg, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	return s, &now
}

// loggedIn returns a done authorization request of alice for the code client.
func loggedIn(t *testing.T, s *storage) *authRequest {
	t.Helper()
	ctx := context.Background()
	ar, err := s.CreateAuthRequest(ctx, &oidc.AuthRequest{ClientID: "idpconform-code", RedirectURI: callbackURI,
		Scopes: oidcScopes, ResponseType: oidc.ResponseTypeCode}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.login(ar.GetID(), "alice", "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
	if err := s.login(ar.GetID(), "alice", "password-of-alice"); err != nil {
		t.Fatal(err)
	}
	return ar.(*authRequest)
}

// Rotation as declared (rotate): the used token is refused, the newest one
// keeps working after the replay.
func TestRefreshRotation(t *testing.T) {
	s, _ := newTestStorage(t)
	ctx := context.Background()
	ar := loggedIn(t, s)
	_, first, _, err := s.CreateAccessAndRefreshTokens(ctx, ar, "")
	if err != nil {
		t.Fatal(err)
	}
	req, err := s.TokenRequestByRefreshToken(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	_, second, _, err := s.CreateAccessAndRefreshTokens(ctx, req, first)
	if err != nil || second == first {
		t.Fatalf("rotation: %v (same token: %v)", err, second == first)
	}
	if _, err := s.TokenRequestByRefreshToken(ctx, first); err == nil {
		t.Error("used refresh token still accepted")
	}
	if _, err := s.TokenRequestByRefreshToken(ctx, second); err != nil {
		t.Errorf("newest refresh token refused after a replay: %v", err)
	}
}

// The library revokes a refresh token with its subject set (after
// GetRefreshTokenInfo); it must be revoked all the same.
func TestRevokeRefreshTokenWithSubject(t *testing.T) {
	s, _ := newTestStorage(t)
	ctx := context.Background()
	ar := loggedIn(t, s)
	_, rt, _, err := s.CreateAccessAndRefreshTokens(ctx, ar, "")
	if err != nil {
		t.Fatal(err)
	}
	user, id, err := s.GetRefreshTokenInfo(ctx, "idpconform-code", rt)
	if err != nil {
		t.Fatal(err)
	}
	if oerr := s.RevokeToken(ctx, id, user, "idpconform-code-short"); oerr == nil {
		t.Error("another client revoked the token")
	}
	if oerr := s.RevokeToken(ctx, id, user, "idpconform-code"); oerr != nil {
		t.Fatal(oerr)
	}
	if _, err := s.TokenRequestByRefreshToken(ctx, rt); err == nil {
		t.Error("revoked refresh token still accepted")
	}
}

// Expired tokens are not described: introspection and userinfo see them
// inactive once the lifetime is over.
func TestAccessTokenExpiry(t *testing.T) {
	s, now := newTestStorage(t)
	ctx := context.Background()
	req, err := s.ClientCredentialsTokenRequest(ctx, "idpconform-short", []string{"api:read", "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if got := req.GetScopes(); len(got) != 1 || got[0] != "api:read" {
		t.Errorf("granted scopes %v, want only the registered api:read", got)
	}
	id, _, err := s.CreateAccessToken(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var resp oidc.IntrospectionResponse
	if err := s.SetIntrospectionFromToken(ctx, &resp, id, "idpconform-short", "idpconform-short"); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	*now = now.Add(2 * time.Second)
	if err := s.SetIntrospectionFromToken(ctx, &oidc.IntrospectionResponse{}, id, "idpconform-short", "idpconform-short"); err == nil {
		t.Error("expired token described")
	}
}
