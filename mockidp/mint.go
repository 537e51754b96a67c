package mockidp

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The jti every token gets under the duplicate-jti fault.
const duplicateJTI = "idpconform-duplicate-jti"

// newMint prepares what the profile builds a token from; times come from the
// mock's clock, shifted by the clock-skew fault.
func (m *IdP) newMint(cfg *config, c *Client, u *User, sub string, scopes []string, fam *family) *mint {
	x := &mint{m: m, prof: m.profile, client: c, user: u, sub: sub, scopes: scopes, fam: fam,
		issuer: m.issuer, jwksURI: m.endpoint(PathJWKS)}
	if f, ok := cfg.faults.get(FaultClockSkew); ok {
		x.skew = f.p.d
	}
	if cfg.faults.on(FaultWrongIssuer) {
		// The classic mismatch: a trailing slash.
		x.issuer = m.issuer + "/"
	}
	x.jti = m.newJTI(cfg)
	return x
}

// times sets iat and exp for a token living ttl, and returns when the mock
// will treat it as expired. Under expired-on-issue both are a minute ago.
func (x *mint) times(cfg *config, now time.Time, ttl time.Duration) time.Time {
	x.iat = x.at(now)
	exp := now.Add(ttl)
	if cfg.faults.on(FaultExpiredOnIssue) {
		exp = now.Add(-time.Minute)
	}
	x.exp = x.at(exp)
	return exp
}

func (m *IdP) newJTI(cfg *config) string {
	if cfg.faults.on(FaultDuplicateJTI) {
		return duplicateJTI
	}
	if d, ok := cfg.drift.get(DriftOpaqueFormat); ok {
		return opaque(d.p.text)
	}
	return randomString(16)
}

// newOpaque returns an opaque token or code in the drifted format, if any.
func (m *IdP) newOpaque(cfg *config) string {
	if d, ok := cfg.drift.get(DriftOpaqueFormat); ok {
		return opaque(d.p.text)
	}
	return opaque("")
}

// accessTTL is the client's access token lifetime, unless the ttl-ignored
// fault is on.
func accessTTL(cfg *config, c *Client) time.Duration {
	if cfg.faults.on(FaultTTLIgnored) {
		return DefaultAccessTokenTTL
	}
	return c.accessTTL()
}

// issueAccessToken makes an access token for c acting for sub: a JWT (RFC
// 9068) or an opaque string as the client is registered. fam is nil for
// client credentials.
func (m *IdP) issueAccessToken(cfg *config, c *Client, u *User, sub string, scopes []string, fam *family) (string, time.Duration, *Error) {
	now := m.clock.now()
	ttl := accessTTL(cfg, c)
	x := m.newMint(cfg, c, u, sub, scopes, fam)
	expires := x.times(cfg, now, ttl)
	aud := c.Audience
	if aud == "" {
		aud = c.ID
	}
	x.aud = aud
	if m.profile.AudienceArray {
		x.aud = []string{aud}
	}
	rec := &record{kind: kindAccess, format: c.AccessTokenFormat, clientID: c.ID, sub: sub, scopes: scopes, aud: x.aud,
		jti: x.jti, issuedAt: now, expires: expires, family: fam}
	if u != nil {
		rec.username = u.Username
	}
	m.store.countIssued()
	if c.AccessTokenFormat == "opaque" {
		tok := m.newOpaque(cfg)
		m.store.putToken(tok, rec, now)
		return tok, ttl, nil
	}
	claims, h := m.profile.v.accessToken(x)
	if cfg.faults.on(FaultAtTypJWT) {
		h.typ = "JWT"
	}
	tok, err := m.signJWT(cfg, claims, h)
	if err != nil {
		return "", 0, ErrServerError.WithDescription("signing failed")
	}
	// Client credentials JWTs are verified by signature and never stored,
	// so a load run does not grow the store; user tokens are stored by jti
	// so that revoking their family reaches them.
	if fam != nil {
		m.store.putToken(jtiKey(x.jti), rec, now)
	}
	return tok, ttl, nil
}

// jtiKey is the store key of a JWT access token.
func jtiKey(jti string) string { return "jti:" + jti }

// issueIDToken makes an ID token (OIDC Core §2) for a user authorization.
func (m *IdP) issueIDToken(cfg *config, c *Client, u *User, g grant, accessToken string) (string, *Error) {
	now := m.clock.now()
	x := m.newMint(cfg, c, u, g.sub, g.scopes, g.fam)
	x.accounts = g.accounts
	x.times(cfg, now, c.idTTL())
	if !cfg.faults.on(FaultNonceDropped) {
		x.nonce = g.nonce
	}
	if accessToken != "" {
		x.atHash = atHash(m.keys.alg(), accessToken)
		if cfg.faults.on(FaultAtHashWrong) {
			x.atHash = atHash(m.keys.alg(), accessToken+"-not-this-one")
		}
	}
	auds := append([]string{c.ID}, c.ExtraAudiences...)
	if cfg.faults.on(FaultIDTokenAudWrong) {
		auds = []string{"idpconform-not-" + c.ID}
	}
	if len(auds) > 1 || m.profile.IDTokenAudArray {
		x.aud = auds
	} else {
		x.aud = auds[0]
	}
	m.store.countIssued()
	tok, err := m.signJWT(cfg, m.profile.v.idToken(x), header{typ: "JWT"})
	if err != nil {
		return "", ErrServerError.WithDescription("signing failed")
	}
	return tok, nil
}

// issueRefreshToken makes a refresh token of fam for c.
func (m *IdP) issueRefreshToken(cfg *config, c *Client, fam *family, scopes []string) string {
	now := m.clock.now()
	tok := m.newOpaque(cfg)
	rec := &record{kind: kindRefresh, format: "opaque", clientID: c.ID, sub: fam.sub, username: fam.username, scopes: scopes,
		issuedAt: now, expires: now.Add(c.refreshTTL()), family: fam}
	m.store.countIssued()
	m.store.putToken(tok, rec, now)
	return tok
}

// signJWT applies the claim drift, then signs, misbehaving as the faults
// ask, and rotates the key when a rotate-key drift says it is time.
func (m *IdP) signJWT(cfg *config, claims *claimSet, h header) (string, error) {
	applyClaimDrift(cfg.drift, claims)
	payload, err := claims.MarshalJSON()
	if err != nil {
		return "", err
	}
	o := signOptions{
		none:       cfg.faults.on(FaultAlgNone),
		badSig:     cfg.faults.on(FaultBadSignature),
		unknownKid: cfg.faults.on(FaultUnknownKid),
	}
	tok, err := m.keys.sign(payload, h, o)
	if err != nil {
		m.log.Error("sign", "err", err)
		return "", fmt.Errorf("sign: %w", err)
	}
	m.maybeRotate(cfg)
	return tok, nil
}

// maybeRotate rotates the signing key every n-th signature under the
// rotate-key drifts. One request pays for the new key; concurrent ones keep
// signing with the current key meanwhile.
func (m *IdP) maybeRotate(cfg *config) {
	d, keep := cfg.drift.get(DriftRotateKey)
	if !keep {
		var ok bool
		if d, ok = cfg.drift.get(DriftRotateKeyDropOld); !ok {
			return
		}
	}
	n := m.keys.signed.Add(1)
	if n%uint64(d.p.every) != 0 || !m.keys.rotating.CompareAndSwap(false, true) {
		return
	}
	defer m.keys.rotating.Store(false)
	if err := m.keys.rotate(m.keys.alg(), keep); err != nil {
		m.log.Error("rotate key", "err", err)
	}
}

// applyClaimDrift changes a claim set as the drifts in force say.
func applyClaimDrift(ds *driftSet, c *claimSet) {
	if len(ds.list) == 0 {
		return
	}
	for _, d := range ds.all(DriftDropClaim) {
		c.del(d.p.text)
	}
	for _, d := range ds.all(DriftClaimType) {
		if v, ok := c.get(d.p.text); ok {
			c.set(d.p.text, changeType(v))
		}
	}
	if ds.on(DriftAudFlip) {
		if v, ok := c.get("aud"); ok {
			c.set("aud", flipAudience(v))
		}
	}
	for _, d := range ds.all(DriftAddClaim) {
		if !c.has(d.p.text) {
			c.set(d.p.text, "added")
		}
	}
	if d, ok := ds.get(DriftReorderClaims); ok {
		if d.p.text == "shuffle" {
			rand.Shuffle(len(c.list), func(i, j int) { c.list[i], c.list[j] = c.list[j], c.list[i] })
		} else {
			slices.Reverse(c.list)
		}
	}
}

// atHash is the access token hash of OIDC Core §3.1.3.6: the left half of
// the hash the signing algorithm uses, base64url-encoded. EdDSA with
// Ed25519 uses SHA-512 (OpenID Connect Core errata 2).
func atHash(alg jose.SignatureAlgorithm, token string) string {
	var h hash.Hash
	switch {
	case strings.HasSuffix(string(alg), "384"):
		h = sha512.New384()
	case strings.HasSuffix(string(alg), "512"), alg == jose.EdDSA:
		h = sha512.New()
	default:
		h = sha256.New()
	}
	h.Write([]byte(token))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// subject returns the sub of u for c, stable per user and profile unless
// the unstable-sub drift is on.
func (m *IdP) subject(cfg *config, u *User) string {
	if cfg.drift.on(DriftUnstableSub) {
		return m.profile.v.userSubject(m.profile, &User{Username: u.Username + "~" + randomString(6)})
	}
	return m.profile.v.userSubject(m.profile, u)
}

// accounts returns the account IDs u permissions, stable unless the
// unstable-accounts drift is on.
func (m *IdP) accounts(cfg *config, u *User) []string {
	if cfg.drift.on(DriftUnstableAccounts) {
		out := make([]string, len(u.Accounts))
		for i := range out {
			out[i] = fmt.Sprintf("%010d", int64(1_000_000_000)+rand.N(int64(8_999_999_999)))
		}
		return out
	}
	return slices.Clone(u.Accounts)
}
