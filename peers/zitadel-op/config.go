package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// clientConfig is one registered client. The same client ids are
// registered at the oidc-provider peer, so that one client can be compared
// across the two providers (idpconform diff).
type clientConfig struct {
	id         string
	secretEnv  string
	authMethod oidc.AuthMethod
	grants     []oidc.GrantType
	scopes     []string
	redirect   string
	format     op.AccessTokenType
	accessTTL  time.Duration
	idTTL      time.Duration
	refreshTTL time.Duration
}

// userConfig is one test user of the login form.
type userConfig struct {
	id, username, passwordEnv, name, email string
}

var codeGrants = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}

const callbackURI = "http://127.0.0.1/callback"

var oidcScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess}

var clientConfigs = []clientConfig{
	{id: "idpconform-cc", secretEnv: "PEER_CC_SECRET", authMethod: oidc.AuthMethodBasic,
		grants: []oidc.GrantType{oidc.GrantTypeClientCredentials}, scopes: []string{"api:read"},
		format: op.AccessTokenTypeJWT, accessTTL: time.Hour},
	{id: "idpconform-cc-post", secretEnv: "PEER_CC_POST_SECRET", authMethod: oidc.AuthMethodPost,
		grants: []oidc.GrantType{oidc.GrantTypeClientCredentials}, scopes: []string{"api:read"},
		format: op.AccessTokenTypeBearer, accessTTL: time.Hour},
	{id: "idpconform-short", secretEnv: "PEER_SHORT_SECRET", authMethod: oidc.AuthMethodBasic,
		grants: []oidc.GrantType{oidc.GrantTypeClientCredentials}, scopes: []string{"api:read"},
		format: op.AccessTokenTypeBearer, accessTTL: 2 * time.Second},
	{id: "idpconform-code", secretEnv: "PEER_CODE_SECRET", authMethod: oidc.AuthMethodBasic,
		grants: codeGrants, scopes: oidcScopes, redirect: callbackURI,
		format: op.AccessTokenTypeJWT, accessTTL: time.Hour, idTTL: time.Hour, refreshTTL: 720 * time.Hour},
	{id: "idpconform-code-short", secretEnv: "PEER_CODE_SHORT_SECRET", authMethod: oidc.AuthMethodBasic,
		grants: codeGrants, scopes: oidcScopes, redirect: callbackURI,
		format: op.AccessTokenTypeBearer, accessTTL: 2 * time.Second, idTTL: 2 * time.Second, refreshTTL: 4 * time.Second},
}

var userConfigs = []userConfig{
	{id: "7d3c1f0e-alice", username: "alice", passwordEnv: "PEER_ALICE_PASSWORD", name: "Alice Example", email: "alice@example.test"},
	{id: "9b2e4a7c-bob", username: "bob", passwordEnv: "PEER_BOB_PASSWORD", name: "Bob Example", email: "bob@example.test"},
}

// config is the resolved configuration: every secret read from the
// environment.
type config struct {
	clients []*client
	users   []*user
}

// loadConfig reads every secret from the environment and names all the
// variables that are missing at once (never a value).
func loadConfig(lookup func(string) (string, bool)) (*config, error) {
	var missing []string
	get := func(name string) string {
		v, ok := lookup(name)
		if !ok || v == "" {
			missing = append(missing, name)
		}
		return v
	}
	cfg := &config{}
	for _, c := range clientConfigs {
		cfg.clients = append(cfg.clients, &client{clientConfig: c, secret: get(c.secretEnv)})
	}
	for _, u := range userConfigs {
		cfg.users = append(cfg.users, &user{userConfig: u, password: get(u.passwordEnv)})
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("unset environment variables %s (published test values: peers/peers.env)", strings.Join(missing, ", "))
	}
	return cfg, nil
}
