// Package loadtest measures how fast an IdP answers, and whether it stays
// correct while doing so. It drives vegeta's library (attacker, pacers,
// metrics, encoders): a Scenario supplies a concurrency-safe targeter and
// judges each response off the hot path; the engine runs bounded attacks at a
// constant rate, in steps, as a ramp or as a capacity search, gates the
// results on SLOs, verifies a sample of issued tokens on a separate worker
// pool, checks that no credential is issued twice, and writes vegeta's own
// result encoding so `vegeta report` and `vegeta plot` read it and shards
// from several machines merge into one report.
package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/results"
	"github.com/idpconform/idpconform/internal/target"
)

// Scenario is one kind of request a load run sends. One value serves every
// attack of a run.
//
// The engine calls Prepare once, then for each attack Targeter, whose
// function vegeta's workers call concurrently, once per hit. Every response
// is handed to Inspect on the collector goroutine, never inside a worker, so
// judging a response does not slow the sending of the next one.
type Scenario interface {
	// Name is the scenario's label, e.g. "client-credentials".
	Name() string
	// Endpoint is the URL attacked, for reports.
	Endpoint() string
	// Prepare readies the scenario before the first attack: a scenario
	// that needs credentials (refresh tokens, tokens to introspect) fills
	// its pool here with real requests, bounded in count and time, and
	// says what that cost (nil when it did nothing). d says what the plan
	// will ask for, so a pool can be sized, and takes every credential the
	// IdP issues while preparing.
	Prepare(ctx context.Context, d Demand) (*results.LoadPreparation, error)
	// Targeter returns the targeter of one attack. It must be safe for
	// concurrent use and give every hit a body of its own. An error from it
	// stops the attack (a pool ran dry): the engine reports it as the
	// reason the attack stopped, runs no further attack, and fails the run.
	Targeter() vegeta.Targeter
	// Inspect judges one response (res.Code is never 0: transport errors
	// are the engine's). It must be cheap, must not keep res.Body or
	// res.Headers past its return, and may return a rotated credential to
	// a pool.
	Inspect(res *vegeta.Result) Outcome
}

// Outcome is a scenario's judgement of one response.
type Outcome struct {
	// Problem says why a response is not what the scenario expects; ""
	// when it is. It is a stable phrase, because failed hits are grouped
	// by it: "no access_token in the response", never a value.
	Problem string
	// OAuthError is the error code of an RFC 6749 §5.2 error body.
	OAuthError string
	// Issued lists the credentials the response carries, for the
	// uniqueness check and the verification sample.
	Issued []Credential
}

// CredentialKind names what a credential is.
type CredentialKind string

const (
	AccessToken  CredentialKind = "access_token"
	RefreshToken CredentialKind = "refresh_token"
	IDToken      CredentialKind = "id_token"
	// AkkessT1 is the token of an Akkess exchange (seed 003).
	AkkessT1 CredentialKind = "akkess_t1"
)

// Demand is what a run will ask of its scenario, for Prepare to size a pool.
type Demand struct {
	// MaxHits is the most hits any one attack sends.
	MaxHits uint64
	// TotalHits is the most hits the whole plan sends: every step, or every
	// probe of a capacity search at its highest rate.
	TotalHits uint64
	// TopRate is the highest rate any attack asks for, per second.
	TopRate float64
	// Issued takes the credentials of one response the IdP gave while
	// preparing: they are checked for uniqueness and sampled for
	// verification like those of an attack. Safe for concurrent use; nil
	// drops them.
	Issued func(creds ...Credential)
	// Progress receives a line when preparing starts; nil shows none.
	Progress io.Writer
}

// issued hands creds to d.Issued, if set.
func (d Demand) issued(creds ...Credential) {
	if d.Issued != nil && len(creds) > 0 {
		d.Issued(creds...)
	}
}

// Auditor is a Scenario with checks that run once, after the last attack
// (a replay of a refresh token the attack spent). Each gate it returns
// joins the run's verdicts; each note says why a check did not run.
type Auditor interface {
	Audit(ctx context.Context) (gates []results.LoadGate, notes []string)
}

// Noter is a Scenario with something to say after the attacks that no
// result shows (pooled tokens minted again as they neared expiry).
type Noter interface {
	Notes() []string
}

// Flow is a Scenario whose hit is a sequence of exchanges (a whole login),
// not one request, or that must see each hit on the wire (refresh puts a
// token back when the IdP did not consume it). The engine sends each hit
// through the RoundTripper Transport returns, wrapped around the run's own
// transport, so vegeta times the whole flow as one hit and its connections
// are the attack's.
type Flow interface {
	Transport(next http.RoundTripper) http.RoundTripper
}

// Credential is a token seen in a response. Its Value is a secret: it is
// hashed for the uniqueness check, handed to the verifier, and dropped.
type Credential struct {
	Kind  CredentialKind
	Value string
}

// Env is what a scenario may use when it is built: the target, the client
// it acts as, the endpoints found by discovery, an OAuth client for the
// requests Prepare makes (seeding pools), and the run's secret registry,
// with which it registers every secret it puts on the wire.
type Env struct {
	Target    *target.Target
	Client    target.Client
	Issuer    string
	Endpoints target.Endpoints
	OAuth     *oauth.Client
	Secrets   *redact.Registry
	// Pool bounds the credentials a scenario prepares.
	Pool PoolOptions
}

// PoolOptions bound the pool of credentials a scenario prepares before its
// first attack (refresh tokens, tokens to introspect, IdP tokens to
// exchange).
type PoolOptions struct {
	// Size is how many credentials to prepare; 0 lets the scenario size
	// the pool from the plan.
	Size uint64
	// Timeout bounds preparation; a pool not full by then is used as it
	// is, and the report says so. Default DefaultPoolTimeout.
	Timeout time.Duration
	// Workers is how many logins or grants run at once. Default
	// DefaultPoolWorkers.
	Workers int
}

// Bounds of preparation.
const (
	DefaultPoolTimeout = 2 * time.Minute
	DefaultPoolWorkers = 4
	// MaxAutoPool caps a pool the scenario sizes itself: a larger one is
	// asked for with --pool.
	MaxAutoPool = 10_000
	// MaxPool caps any pool: every credential is held in memory.
	MaxPool = 1_000_000
)

// ScenarioInfo describes a scenario the engine can run.
type ScenarioInfo struct {
	Name string
	// Grant is the grant the scenario's client must be registered for; ""
	// when the scenario needs no client.
	Grant target.Grant
	// Summary is one line for --help.
	Summary string
	// Pool says what --pool counts; "" when the scenario prepares no pool.
	Pool string
	New  func(Env) (Scenario, error)
}

// Scenarios lists the scenarios `idpconform load` offers, by name.
var Scenarios = map[string]ScenarioInfo{
	"client-credentials": {
		Name: "client-credentials", Grant: target.GrantClientCredentials,
		Summary: "POST token endpoint, grant_type=client_credentials (RFC 6749 §4.4)",
		New:     newClientCredentials,
	},
	"jwks": {
		Name:    "jwks",
		Summary: "GET jwks_uri, as every resource server does to verify tokens (RFC 7517 §5)",
		New:     newJWKS,
	},
	"refresh": {
		Name: "refresh", Grant: target.GrantRefreshToken,
		Summary: "POST token endpoint, grant_type=refresh_token (RFC 6749 §6), each pooled token sent once",
		Pool:    "refresh tokens from logins",
		New:     newRefresh,
	},
	"introspection": {
		Name: "introspection", Grant: target.GrantClientCredentials,
		Summary: "POST introspection endpoint with a pooled live token; active must be true (RFC 7662)",
		Pool:    "access tokens from client credentials grants",
		New:     newIntrospection,
	},
	"authcode": {
		Name: "authcode", Grant: target.GrantAuthorizationCode,
		Summary: "a whole login per hit, timed end to end: authorize, login form, consent, code exchange",
		New:     newAuthcode,
	},
	"akkess-token": {
		Name: "akkess-token", Grant: target.GrantAuthorizationCode,
		Summary: "POST the Akkess endpoint with a pooled user token for a t1 JWT (seed 003)",
		Pool:    "IdP access tokens from logins",
		New:     newAkkessToken,
	},
}

// ScenarioNames returns the scenario names, sorted.
func ScenarioNames() []string {
	out := make([]string, 0, len(Scenarios))
	for k := range Scenarios {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// LookupScenario returns the named scenario or an error listing the known
// ones.
func LookupScenario(name string) (ScenarioInfo, error) {
	info, ok := Scenarios[name]
	if !ok {
		return ScenarioInfo{}, fmt.Errorf("unknown scenario %q; expected one of %s", name, strings.Join(ScenarioNames(), ", "))
	}
	return info, nil
}

// PickClient returns the named client, or the first one registered for the
// scenario's grant.
func PickClient(t *target.Target, info ScenarioInfo, name string) (target.Client, error) {
	if name != "" {
		c, ok := t.Client(name)
		if !ok {
			names := make([]string, 0, len(t.Clients))
			for _, c := range t.Clients {
				names = append(names, c.Name)
			}
			return target.Client{}, fmt.Errorf("target %s has no client %q; it has %s", t.Name, name, strings.Join(names, ", "))
		}
		if info.Grant != "" && !c.HasGrant(info.Grant) {
			return target.Client{}, fmt.Errorf("client %q is not registered for %s (its grants: %v), which scenario %s needs", name, info.Grant, c.Grants, info.Name)
		}
		return c, nil
	}
	if info.Grant == "" {
		return target.Client{}, nil
	}
	c, ok := t.ClientFor(info.Grant)
	if !ok {
		return target.Client{}, fmt.Errorf("target %s has no client registered for %s, which scenario %s needs", t.Name, info.Grant, info.Name)
	}
	return c, nil
}

// isJWT reports whether v has the shape of a compact JWS.
func isJWT(v string) bool {
	return strings.Count(v, ".") == 2 && strings.HasPrefix(v, "eyJ")
}
