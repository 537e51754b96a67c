package mockidp

import (
	"net/http"
	"slices"
)

// handleDiscovery serves the OpenID Provider metadata (OIDC Discovery 1.0
// §3) at both well-known paths (RFC 8414 §3).
func (m *IdP) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	cfg := m.cfgOf(r)
	grantTypes := make([]string, 0, len(m.grants))
	for g := range m.grants {
		grantTypes = append(grantTypes, g)
	}
	slices.Sort(grantTypes)
	pkce := []string{"S256", "plain"}
	if cfg.faults.on(FaultUnadvertised) {
		grantTypes = slices.DeleteFunc(grantTypes, func(g string) bool { return g == "client_credentials" })
		pkce = []string{"plain"}
	}
	issuer := m.issuer
	if cfg.faults.on(FaultIssuerMismatch) {
		issuer = m.issuer + "/other"
	}
	authMethods := []string{AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT}
	if m.clientCAs != nil {
		authMethods = append(authMethods, AuthTLSClientAuth)
	}
	doc := newClaims()
	doc.set("issuer", issuer)
	doc.set("authorization_endpoint", m.endpoint(PathAuthorize))
	doc.set("token_endpoint", m.endpoint(PathToken))
	doc.set("userinfo_endpoint", m.endpoint(PathUserinfo))
	doc.set("jwks_uri", m.endpoint(PathJWKS))
	doc.set("introspection_endpoint", m.endpoint(PathIntrospect))
	revocation := m.endpoint(PathRevoke)
	if m.profile.Name == ProfileNextIdentity {
		revocation = m.endpoint(PathLogout)
	}
	doc.set("revocation_endpoint", revocation)
	doc.set("scopes_supported", m.scopesSupported())
	doc.set("response_types_supported", []string{"code"})
	doc.set("response_modes_supported", []string{"query"})
	doc.set("grant_types_supported", grantTypes)
	doc.set("subject_types_supported", []string{"public"})
	doc.set("id_token_signing_alg_values_supported", []string{string(m.keys.alg())})
	doc.set("token_endpoint_auth_methods_supported", append(slices.Clone(authMethods), AuthNone))
	doc.set("introspection_endpoint_auth_methods_supported", authMethods)
	doc.set("revocation_endpoint_auth_methods_supported", append(slices.Clone(authMethods), AuthNone))
	doc.set("token_endpoint_auth_signing_alg_values_supported", assertionAlgNames())
	doc.set("code_challenge_methods_supported", pkce)
	doc.set("prompt_values_supported", []string{"none", "login", "consent"})
	doc.set("claims_supported", m.claimsSupported())
	doc.set("authorization_response_iss_parameter_supported", true)
	writeJSONCacheable(w, "application/json", doc)
}

func (m *IdP) handleJWKS(w http.ResponseWriter, r *http.Request) {
	cfg := m.cfgOf(r)
	private, dup := cfg.faults.on(FaultJWKSPrivateKey), cfg.faults.on(FaultDuplicateKid)
	if !private && !dup {
		writeJSONCacheable(w, "application/jwk-set+json", m.keys.publicSet())
		return
	}
	set, err := m.keys.faultySet(private, dup)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, ErrServerError.WithDescription("decoy key generation failed"))
		return
	}
	writeJSONCacheable(w, "application/jwk-set+json", set)
}

func (m *IdP) scopesSupported() []string {
	var out []string
	for _, id := range m.clientIDs {
		for _, s := range m.clients[id].Scopes {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}

// claimsSupported lists the claims the profile's ID tokens and userinfo
// answers can carry.
func (m *IdP) claimsSupported() []string {
	var names []string
	switch m.profile.Name {
	case ProfileAkoya:
		names = []string{"accounts", "at_hash", "aud", "auth_time", "connectorId", "exp", "grant_id", "iat", "iss", "jti", "name", "nonce", "products", "rat", "recipientId", "sid", "sub"}
	case ProfileAkoyaLegacy:
		names = []string{"iss", "sub", "aud", "exp", "iat", "at_hash", "email", "email_verified", "name", "nonce"}
	default:
		names = []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "sid", "jti",
			"name", "given_name", "family_name", "nickname", "locale", "updated_at", "email", "email_verified", "company_name"}
	}
	return names
}
