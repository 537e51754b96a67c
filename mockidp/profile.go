package mockidp

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Profile is the vendor the mock imitates: the algorithm it signs with, the
// claims its tokens carry and in which order, the shape of its subjects and
// its vendor endpoints.
type Profile struct {
	Name string
	// Doc is the source document the profile follows (../shared/seeds).
	Doc string
	// Description says in one line what the profile imitates.
	Description string
	// SigningAlg is the JWS algorithm of every token.
	SigningAlg jose.SignatureAlgorithm
	// AudienceArray puts aud in access tokens as an array, not a string.
	AudienceArray bool
	// IDTokenAudArray puts aud in ID tokens as an array, not a string.
	IDTokenAudArray bool
	// Connector is the Akoya data provider (connectorId) the mock plays;
	// it is part of the Akoya sub.
	Connector string

	v vendor
}

// The profile names.
const (
	ProfileGeneric      = "generic"
	ProfileAkoya        = "akoya"
	ProfileAkoyaLegacy  = "akoya-legacy"
	ProfileAkkess       = "akkess"
	ProfileNextIdentity = "nextidentity"
)

var profiles = map[string]Profile{
	ProfileGeneric: {Name: ProfileGeneric, Doc: "RFC 6749, RFC 9068, OIDC Core",
		Description: "every flow and every standard claim, no vendor quirks",
		SigningAlg:  jose.RS256, v: genericVendor{}},
	ProfileAkoya: {Name: ProfileAkoya, Doc: "Akoya new IdP (seeds 000, 001)",
		Description: "Akoya's new IdP: connectorId, recipientId, products, accounts, grant_id, sid, rat; aud an array; 602 data errors",
		SigningAlg:  jose.RS256, AudienceArray: true, IDTokenAudArray: true, Connector: "mikomo", v: akoyaVendor{}},
	ProfileAkoyaLegacy: {Name: ProfileAkoyaLegacy, Doc: "Akoya old IdP (seed 002)",
		Description: "Akoya's old IdP: the small claim set (email holds the login, name an internal ID); aud a string",
		SigningAlg:  jose.RS256, Connector: "mikomo", v: akoyaLegacyVendor{}},
	ProfileAkkess: {Name: ProfileAkkess, Doc: "Akkess token service (seed 003)",
		Description: "an OIDC IdP plus Akkess' POST /authorization/v1/tokens exchanging its tokens for t1 JWTs",
		SigningAlg:  jose.RS256, v: akkessVendor{}},
	ProfileNextIdentity: {Name: ProfileNextIdentity, Doc: "Next Identity token service (seed 004)",
		Description: "Next Identity: custom prefix:name:suffix scopes and claims, opaque or JWT access tokens, UUID subjects",
		SigningAlg:  jose.RS256, AudienceArray: true, v: nextIdentityVendor{}},
}

// Profiles lists the profile names, sorted.
func Profiles() []string {
	out := make([]string, 0, len(profiles))
	for k := range profiles {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// LookupProfile returns the named profile.
func LookupProfile(name string) (Profile, error) {
	p, ok := profiles[name]
	if !ok {
		return Profile{}, fmt.Errorf("unknown mock profile %q; expected one of %s", name, strings.Join(Profiles(), ", "))
	}
	return p, nil
}

// Claims returns, sorted, the name of every claim the profile's tokens
// (ID, access and Akkess tokens) and userinfo answers can carry before
// drift. The names are read off claim sets the profile builds for the widest
// case (a user with every attribute, every scope, a login with a session,
// two audiences), so the list cannot fall behind the code that mints.
func (p Profile) Claims() []string {
	u := &User{Username: "u", Name: "n", GivenName: "g", FamilyName: "f", Nickname: "k", Email: "e", Locale: "l",
		UpdatedAt: time.Unix(1, 0), Claims: map[string]any{}, Tenants: []string{"t"}}
	scopes := []string{"openid", "profile", "email", "offline_access"}
	for scope, names := range customScopeClaims {
		scopes = append(scopes, scope)
		for _, n := range names {
			u.Claims[n] = "x"
		}
	}
	c := &Client{ID: "c", ExtraAudiences: []string{"other"}}
	at := time.Unix(1, 0)
	x := &mint{prof: p, client: c, user: u, sub: "s", scopes: scopes,
		fam:      &family{authTime: at, rat: at, sid: "sid", grantID: "grant", accounts: []string{"a"}},
		accounts: []string{"a"}, nonce: "n", iat: 1, exp: 2, jti: "j", atHash: "h",
		aud: []string{c.ID, "other"}, issuer: "https://issuer.invalid", jwksURI: "https://issuer.invalid/jwks"}
	names := map[string]bool{}
	add := func(cs *claimSet) {
		for _, n := range cs.Names() {
			names[n] = true
		}
	}
	add(p.v.idToken(x))
	access, _ := p.v.accessToken(x)
	add(access)
	add(p.v.userinfo(x))
	if p.Name == ProfileAkkess {
		add(akkessClaims(x, u, c.ID, "t", "j"))
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// mint is what a profile builds a token from.
type mint struct {
	m        *IdP
	prof     Profile
	client   *Client
	user     *User // nil for client credentials
	sub      string
	scopes   []string
	fam      *family // nil for client credentials
	accounts []string
	nonce    string
	skew     time.Duration // the clock-skew fault's shift of every claim time
	iat      int64         // claim times, already shifted
	exp      int64
	jti      string
	atHash   string // of the access token issued alongside, for ID tokens
	aud      any
	issuer   string
	jwksURI  string
}

// at returns t as a claim time (seconds), shifted by the clock-skew fault.
func (x *mint) at(t time.Time) int64 { return t.Add(x.skew).Unix() }

// vendor is what differs between profiles.
type vendor interface {
	userSubject(p Profile, u *User) string
	clientSubject(c *Client) string
	idToken(x *mint) *claimSet
	accessToken(x *mint) (*claimSet, header)
	userinfo(x *mint) *claimSet
	// refreshError answers an expired, reused or unknown refresh token.
	refreshError() *Error
}

// genericVendor is the standards: RFC 9068 access tokens, OIDC Core ID
// tokens and userinfo.
type genericVendor struct{}

func (genericVendor) userSubject(_ Profile, u *User) string {
	h := sha256.Sum256([]byte("idpconform-subject|" + u.Username))
	return "u-" + base64.RawURLEncoding.EncodeToString(h[:16])
}

func (genericVendor) clientSubject(c *Client) string { return c.ID }

func (genericVendor) refreshError() *Error {
	return ErrInvalidGrant.WithDescription("refresh token is invalid, expired, revoked or already used")
}

// idToken follows OIDC Core §2 and §5.4.
func (genericVendor) idToken(x *mint) *claimSet {
	c := newClaims()
	c.set("iss", x.issuer)
	c.set("sub", x.sub)
	c.set("aud", x.aud)
	c.set("exp", x.exp)
	c.set("iat", x.iat)
	if x.fam != nil {
		c.set("auth_time", x.at(x.fam.authTime))
		c.setIf("sid", x.fam.sid)
	}
	c.setIf("nonce", x.nonce)
	c.setIf("at_hash", x.atHash)
	if auds, ok := x.aud.([]string); ok && len(auds) > 1 {
		c.set("azp", x.client.ID)
	}
	c.set("jti", x.jti)
	scopeClaims(c, x, false)
	return c
}

// scopeClaims adds the claims the OIDC scopes release (OIDC Core §5.4) and
// the custom claims of custom scopes (Next Identity, seed 004).
func scopeClaims(c *claimSet, x *mint, isoUpdatedAt bool) {
	u := x.user
	if u == nil {
		return
	}
	if slices.Contains(x.scopes, "profile") {
		c.setIf("name", u.Name)
		c.setIf("given_name", u.GivenName)
		c.setIf("family_name", u.FamilyName)
		c.setIf("nickname", u.Nickname)
		c.setIf("locale", u.Locale)
		if !u.UpdatedAt.IsZero() {
			if isoUpdatedAt {
				c.set("updated_at", u.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z"))
			} else {
				c.set("updated_at", u.UpdatedAt.Unix())
			}
		}
	}
	if slices.Contains(x.scopes, "email") && u.Email != "" {
		c.set("email", u.Email)
		c.set("email_verified", u.EmailVerified)
	}
	customClaims(c, x)
}

// customScopeClaims maps a custom scope (prefix:name, any suffix) to the
// user claims it releases.
var customScopeClaims = map[string][]string{
	"ad:user_custom": {"company_name"},
}

func customClaims(c *claimSet, x *mint) {
	for _, s := range x.scopes {
		for _, name := range customScopeClaims[scopeBase(s)] {
			if v, ok := x.user.Claims[name]; ok {
				c.set(name, v)
			}
		}
	}
}

// scopeBase is prefix:name of a custom scope prefix:name:suffix.
func scopeBase(s string) string {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) == 3 {
		return parts[0] + ":" + parts[1]
	}
	return s
}

// accessToken follows RFC 9068 §2.2.
func (genericVendor) accessToken(x *mint) (*claimSet, header) {
	c := newClaims()
	c.set("iss", x.issuer)
	c.set("exp", x.exp)
	c.set("aud", x.aud)
	c.set("sub", x.sub)
	c.set("client_id", x.client.ID)
	c.set("iat", x.iat)
	c.set("jti", x.jti)
	if len(x.scopes) > 0 {
		c.set("scope", strings.Join(x.scopes, " "))
	}
	if x.fam != nil {
		c.set("auth_time", x.at(x.fam.authTime))
	}
	return c, header{typ: "at+jwt"}
}

// userinfo follows OIDC Core §5.3.2.
func (genericVendor) userinfo(x *mint) *claimSet {
	c := newClaims()
	c.set("sub", x.sub)
	scopeClaims(c, x, false)
	return c
}

// akoyaVendor is Akoya's new IdP (seeds 000, 001): the ID token of seed
// 001's example, claims in its (alphabetical) order.
type akoyaVendor struct{ genericVendor }

// userSubject imitates Akoya's sub: base64 of a protobuf message holding the
// login (field 1) and the data provider (field 2), so it is unique per
// provider and per login and stable across refreshes and re-links (seed
// 002). "mikomo_6" at "mikomo" gives seed 000's CghtaWtvbW9fNhIGbWlrb21v.
func (akoyaVendor) userSubject(p Profile, u *User) string {
	return akoyaSubject(u.Username, p.Connector)
}

func akoyaSubject(login, provider string) string {
	var b []byte
	field := func(tag byte, s string) {
		b = append(b, tag)
		b = appendVarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	field(0x0a, login)
	field(0x12, provider)
	return base64.StdEncoding.EncodeToString(b)
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func (akoyaVendor) refreshError() *Error {
	return ErrInvalidRequest.WithDescription(AkoyaRefreshErrorDescription)
}

func (akoyaVendor) idToken(x *mint) *claimSet {
	c := newClaims()
	if x.fam != nil {
		c.set("accounts", slices.Clone(x.accounts))
	}
	c.setIf("at_hash", x.atHash)
	c.set("aud", x.aud)
	if x.fam != nil {
		c.set("auth_time", x.at(x.fam.authTime))
	}
	c.set("connectorId", x.prof.Connector)
	c.set("exp", x.exp)
	if x.fam != nil {
		c.set("grant_id", x.fam.grantID)
	}
	c.set("iat", x.iat)
	c.set("iss", x.issuer)
	c.set("jti", x.jti)
	if x.user != nil {
		c.set("name", x.user.Username)
	}
	c.setIf("nonce", x.nonce)
	c.set("products", slices.Clone(x.client.products()))
	if x.fam != nil {
		c.set("rat", x.at(x.fam.rat))
	}
	c.set("recipientId", x.client.recipient())
	if x.fam != nil {
		c.set("sid", x.fam.sid)
	}
	c.set("sub", x.sub)
	return c
}

// akoyaLegacyVendor is Akoya's old IdP (seed 002): aud a string, email
// holding the login, name an internal identifier.
type akoyaLegacyVendor struct{ akoyaVendor }

func (akoyaLegacyVendor) idToken(x *mint) *claimSet {
	c := newClaims()
	c.set("iss", x.issuer)
	c.set("sub", x.sub)
	c.set("aud", x.aud)
	c.set("exp", x.exp)
	c.set("iat", x.iat)
	c.setIf("at_hash", x.atHash)
	if x.user != nil {
		c.set("email", x.user.Username)
		c.set("email_verified", false)
		c.set("name", legacyInternalID(x.user.Username))
	}
	c.setIf("nonce", x.nonce)
	return c
}

// legacyInternalID is a stable upper-case identifier like seed 002's
// "KLDJFSDI4909DPSJNIO".
func legacyInternalID(login string) string {
	h := sha256.Sum256([]byte("akoya-legacy-name|" + login))
	return base32.StdEncoding.EncodeToString(h[:])[:19]
}

// akkessVendor is an OIDC IdP whose tokens Akkess exchanges (seed 003); the
// Akkess tokens themselves are built in akkess.go.
type akkessVendor struct{ genericVendor }

func (akkessVendor) userSubject(_ Profile, u *User) string { return objectID("actor|" + u.Username) }

func (akkessVendor) clientSubject(c *Client) string { return objectID("actor|client|" + c.ID) }

// objectID is a stable 24-hex-digit identifier like Akkess' (MongoDB-style)
// IDs.
func objectID(seed string) string {
	h := sha256.Sum256([]byte("akkess|" + seed))
	return hex.EncodeToString(h[:12])
}

// nextIdentityVendor is Next Identity's token service (seed 004): UUID
// subjects, updated_at as an ISO string, JWT access tokens with nbf and a
// jku header.
type nextIdentityVendor struct{ genericVendor }

func (nextIdentityVendor) userSubject(_ Profile, u *User) string {
	return nameUUID("user|" + u.Username)
}

func (nextIdentityVendor) clientSubject(c *Client) string { return nameUUID("client|" + c.ID) }

// nameUUID is a name-based (version 5 style) UUID, stable for a name.
func nameUUID(name string) string {
	h := sha1.Sum([]byte("idpconform-nextidentity|" + name))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (nextIdentityVendor) idToken(x *mint) *claimSet {
	c := newClaims()
	u := x.user
	if u != nil && slices.Contains(x.scopes, "profile") {
		c.setIf("family_name", u.FamilyName)
		c.setIf("given_name", u.GivenName)
		c.setIf("name", u.Name)
		c.setIf("nickname", u.Nickname)
		if !u.UpdatedAt.IsZero() {
			c.set("updated_at", u.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z"))
		}
	}
	if u != nil && slices.Contains(x.scopes, "email") && u.Email != "" {
		c.set("email", u.Email)
		c.set("email_verified", u.EmailVerified)
	}
	c.set("iss", x.issuer)
	c.set("sub", x.sub)
	c.set("aud", x.aud)
	c.set("exp", x.exp)
	c.set("iat", x.iat)
	c.setIf("nonce", x.nonce)
	c.setIf("at_hash", x.atHash)
	if u != nil {
		customClaims(c, x)
	}
	return c
}

func (nextIdentityVendor) accessToken(x *mint) (*claimSet, header) {
	c := newClaims()
	c.set("iss", x.issuer)
	c.set("sub", x.sub)
	c.set("client_id", x.client.ID)
	c.set("aud", x.aud)
	c.set("iat", x.iat)
	c.set("nbf", x.iat)
	c.set("exp", x.exp)
	c.set("jti", x.jti)
	if len(x.scopes) > 0 {
		c.set("scope", strings.Join(x.scopes, " "))
	}
	return c, header{typ: "at+jwt", jku: x.jwksURI}
}

func (nextIdentityVendor) userinfo(x *mint) *claimSet {
	c := newClaims()
	c.set("sub", x.sub)
	scopeClaims(c, x, true)
	return c
}
