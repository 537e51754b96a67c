package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// authRequestTTL bounds how long a user may take to log in.
const authRequestTTL = 10 * time.Minute

var (
	errNotFound = errors.New("not found")
	errExpired  = errors.New("expired")
)

// storage is the provider's whole state, in memory, behind one mutex: this
// OP serves tests, not traffic that would need finer locking.
//
// Refresh tokens rotate: each refresh returns a new one and the old one
// stops working, but presenting a used one does not revoke the newer ones
// (RFC 9700 §4.14.2 leaves that choice to the server). The target file
// declares this as rotation: rotate.
type storage struct {
	now func() time.Time
	key signingKey

	mu       sync.Mutex
	clients  map[string]*client
	users    map[string]*user // by username
	userByID map[string]*user
	requests map[string]*authRequest
	codes    map[string]string // code -> request id
	access   map[string]*accessToken
	refresh  map[string]*refreshToken
}

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.ClientCredentialsStorage  = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

func newStorage(cfg *config, now func() time.Time) (*storage, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	s := &storage{
		now:      now,
		key:      signingKey{id: randomID(8), priv: k},
		clients:  map[string]*client{},
		users:    map[string]*user{},
		userByID: map[string]*user{},
		requests: map[string]*authRequest{},
		codes:    map[string]string{},
		access:   map[string]*accessToken{},
		refresh:  map[string]*refreshToken{},
	}
	for _, c := range cfg.clients {
		s.clients[c.id] = c
	}
	for _, u := range cfg.users {
		s.users[u.username] = u
		s.userByID[u.id] = u
	}
	return s, nil
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// --- authorization requests and codes ---

func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	a := &authRequest{
		id: randomID(16), clientID: r.ClientID, redirectURI: r.RedirectURI, scopes: r.Scopes,
		state: r.State, nonce: r.Nonce, responseTyp: r.ResponseType, responseMod: r.ResponseMode,
		created: s.now(), userID: userID,
	}
	if r.CodeChallenge != "" {
		a.challenge = &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	s.requests[a.id] = a
	return a, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok {
		return nil, fmt.Errorf("auth request %s: %w", id, errNotFound)
	}
	return a, nil
}

func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	if !ok {
		return nil, fmt.Errorf("code: %w", errNotFound)
	}
	a, ok := s.requests[id]
	if !ok {
		return nil, fmt.Errorf("code: %w", errNotFound)
	}
	return a, nil
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.requests[id]; !ok {
		return fmt.Errorf("auth request %s: %w", id, errNotFound)
	}
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest is called once the code is redeemed: the code is
// single-use (RFC 6749 §4.1.2).
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

// login checks a user's password and marks the request done.
func (s *storage) login(id, username, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok {
		return fmt.Errorf("auth request: %w", errNotFound)
	}
	u, ok := s.users[username]
	if !ok || subtle.ConstantTimeCompare([]byte(u.password), []byte(password)) != 1 {
		return errors.New("wrong username or password")
	}
	a.userID, a.authTime, a.done = u.id, s.now(), true
	return nil
}

// sweep drops expired state; the caller holds mu.
func (s *storage) sweep() {
	now := s.now()
	for id, a := range s.requests {
		if now.Sub(a.created) > authRequestTTL {
			delete(s.requests, id)
		}
	}
	for id, t := range s.access {
		if now.After(t.expires.Add(time.Minute)) {
			delete(s.access, id)
		}
	}
	for id, t := range s.refresh {
		if now.After(t.expires.Add(time.Minute)) {
			delete(s.refresh, id)
		}
	}
}

// --- tokens ---

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.newAccess(req, "")
	if err != nil {
		return "", time.Time{}, err
	}
	return t.id, t.expires, nil
}

func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var authTime time.Time
	var amr []string
	if current != "" {
		old, ok := s.refresh[current]
		if !ok {
			return "", "", time.Time{}, fmt.Errorf("refresh token: %w", errNotFound)
		}
		if s.now().After(old.expires) {
			return "", "", time.Time{}, fmt.Errorf("refresh token: %w", errExpired)
		}
		// Rotation: the presented token is used up, its access token with it.
		delete(s.refresh, current)
		delete(s.access, old.access)
		authTime, amr = old.authTime, old.amr
	} else if a, ok := req.(*authRequest); ok {
		authTime, amr = a.authTime, a.GetAMR()
	}
	rt := &refreshToken{token: randomID(32), userID: req.GetSubject(), audience: req.GetAudience(),
		scopes: slices.Clone(req.GetScopes()), amr: amr, authTime: authTime}
	at, err := s.newAccess(req, rt.token)
	if err != nil {
		return "", "", time.Time{}, err
	}
	c := s.clients[at.clientID]
	rt.clientID, rt.access, rt.expires = at.clientID, at.id, s.now().Add(c.refreshTTL)
	s.refresh[rt.token] = rt
	return at.id, rt.token, at.expires, nil
}

// newAccess records an access token for req; the caller holds mu.
func (s *storage) newAccess(req op.TokenRequest, refresh string) (*accessToken, error) {
	clientID := ""
	switch r := req.(type) {
	case *authRequest:
		clientID = r.clientID
	case *refreshToken:
		clientID = r.clientID
	case *ccRequest:
		clientID = r.clientID
	default:
		return nil, fmt.Errorf("unsupported token request %T", req)
	}
	c, ok := s.clients[clientID]
	if !ok {
		return nil, fmt.Errorf("client %s: %w", clientID, errNotFound)
	}
	now := s.now()
	t := &accessToken{id: randomID(16), clientID: clientID, subject: req.GetSubject(), audience: req.GetAudience(),
		scopes: slices.Clone(req.GetScopes()), issued: now, expires: now.Add(c.accessTTL), refreshTok: refresh}
	s.sweep()
	s.access[t.id] = t
	return t, nil
}

func (s *storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refresh[token]
	if !ok {
		return nil, fmt.Errorf("refresh token: %w", errNotFound)
	}
	if s.now().After(rt.expires) {
		return nil, fmt.Errorf("refresh token: %w", errExpired)
	}
	cp := *rt
	return &cp, nil
}

func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// RevokeToken revokes an access token (by id) or a refresh token (by value)
// of clientID; a token of another client is refused (RFC 7009 §2.1). The
// library passes a refresh token's subject too (after GetRefreshTokenInfo),
// so the kind is told by where the value is found, not by userID.
func (s *storage) RevokeToken(_ context.Context, tokenOrID, _ string, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt, ok := s.refresh[tokenOrID]; ok {
		if rt.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.refresh, tokenOrID)
		delete(s.access, rt.access)
		return nil
	}
	if t, ok := s.access[tokenOrID]; ok {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.access, tokenOrID)
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(_ context.Context, clientID, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refresh[token]
	if !ok || rt.clientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.userID, rt.token, nil
}

// --- keys ---

type signingKey struct {
	id   string
	priv *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.priv }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.priv.PublicKey }

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}
func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

// --- clients ---

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, fmt.Errorf("client %s: %w", id, errNotFound)
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1 {
		return errors.New("wrong client id or secret")
	}
	return nil
}

func (s *storage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	if err := s.AuthorizeClientIDSecret(ctx, id, secret); err != nil {
		return nil, err
	}
	return s.GetClientByClientID(ctx, id)
}

// ClientCredentialsTokenRequest grants the requested scopes the client is
// registered for, never more (RFC 6749 §3.3); none requested means all of
// them.
func (s *storage) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, fmt.Errorf("client %s: %w", id, errNotFound)
	}
	granted := []string{}
	if len(scopes) == 0 {
		granted = slices.Clone(c.scopes)
	}
	for _, sc := range scopes {
		if slices.Contains(c.scopes, sc) {
			granted = append(granted, sc)
		}
	}
	return &ccRequest{clientID: id, scopes: granted}, nil
}

// --- claims ---

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.fillUserinfo(info, req.GetSubject(), scopes)
}

func (s *storage) fillUserinfo(info *oidc.UserInfo, subject string, scopes []string) error {
	s.mu.Lock()
	u, ok := s.userByID[subject]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("user %s: %w", subject, errNotFound)
	}
	info.Subject = u.id
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name, info.PreferredUsername = u.name, u.username
	}
	if slices.Contains(scopes, oidc.ScopeEmail) {
		info.Email, info.EmailVerified = u.email, true
	}
	return nil
}

// liveAccess returns an unexpired access token by id.
func (s *storage) liveAccess(id string) (*accessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.access[id]
	if !ok {
		return nil, fmt.Errorf("access token: %w", errNotFound)
	}
	if !s.now().Before(t.expires) {
		return nil, fmt.Errorf("access token: %w", errExpired)
	}
	cp := *t
	return &cp, nil
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.liveAccess(tokenID)
	if err != nil {
		return err
	}
	if t.subject != subject {
		return fmt.Errorf("access token subject: %w", errNotFound)
	}
	return s.fillUserinfo(info, subject, t.scopes)
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, _ string) error {
	t, err := s.liveAccess(tokenID)
	if err != nil {
		return err
	}
	if t.subject != subject {
		return fmt.Errorf("access token subject: %w", errNotFound)
	}
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(t.expires)
	resp.IssuedAt = oidc.FromTime(t.issued)
	resp.Subject = t.subject
	resp.Audience = t.audience
	resp.JWTID = t.id
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(_ context.Context, _, _ string, scopes []string) (map[string]any, error) {
	if len(scopes) == 0 {
		return nil, nil
	}
	return map[string]any{"scope": strings.Join(scopes, " ")}, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT profile grants are not supported")
}

func (s *storage) ValidateJWTProfileScopes(_ context.Context, _ string, scopes []string) ([]string, error) {
	return scopes, nil
}

func (s *storage) Health(context.Context) error { return nil }
