package target

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/idpconform/idpconform/internal/yamlfile"
)

// TLS configures the connections to the IdP.
type TLS struct {
	// CAFile is a PEM bundle of the CA certificates that sign the IdP's
	// certificate, trusted instead of the system's roots (a private CA).
	// A relative path is relative to the target file.
	CAFile string `yaml:"ca_file"`
	// InsecureSkipVerify turns certificate verification off. Anyone on the
	// network path can then pose as the IdP and read every secret sent;
	// each run warns while it is set.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`

	roots *x509.CertPool
}

// More client authentication methods (see AuthMethod).
const (
	// TLSClientAuth authenticates with the client certificate of cert_file
	// and key_file (RFC 8705 §2.1).
	TLSClientAuth AuthMethod = "tls_client_auth"
	// PrivateKeyJWT authenticates with JWT assertions signed by the key of
	// private_key_file (RFC 7523 §2.2, OIDC Core §9).
	PrivateKeyJWT AuthMethod = "private_key_jwt"
)

// UsesSecret reports whether the method sends the client secret.
func (m AuthMethod) UsesSecret() bool { return m == ClientSecretBasic || m == ClientSecretPost }

// ClientKeys are a client's credentials other than a secret, read from the
// files the target names when it is loaded.
type ClientKeys struct {
	// CertFile and KeyFile hold the PEM client certificate and its private
	// key for tls_client_auth.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// PrivateKeyFile holds the PEM private key that signs private_key_jwt
	// assertions; KeyID is its kid as registered at the IdP, AssertionAlg
	// its JWS algorithm (default: RS256, ES256/384/512 or EdDSA by key).
	PrivateKeyFile string `yaml:"private_key_file"`
	KeyID          string `yaml:"key_id"`
	AssertionAlg   string `yaml:"assertion_alg"`

	cert   *tls.Certificate
	signer crypto.Signer
}

// Certificate returns the client certificate loaded from cert_file, or nil.
func (k ClientKeys) Certificate() *tls.Certificate { return k.cert }

// AssertionSigner returns the key loaded from private_key_file, or nil.
func (k ClientKeys) AssertionSigner() crypto.Signer { return k.signer }

// TLSConfig returns the TLS configuration of connections to the IdP, or nil
// when the target sets none (the system's roots, full verification).
func (t *Target) TLSConfig() *tls.Config {
	if t.TLS.roots == nil && !t.TLS.InsecureSkipVerify {
		return nil
	}
	// InsecureSkipVerify is the user's explicit choice, warned about on every run.
	return &tls.Config{RootCAs: t.TLS.roots, InsecureSkipVerify: t.TLS.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
}

// relative resolves a path named in the target file against its directory.
func relative(file, p string) string {
	if p == "" || filepath.IsAbs(p) || file == "" {
		return p
	}
	return filepath.Join(filepath.Dir(file), p)
}

// validateTLS loads the CA bundle and the clients' certificates and keys,
// reporting each unreadable or unfit file at its field. File contents are
// never quoted: key files are secrets.
func validateTLS(t *Target) []yamlfile.Problem {
	var ps []yamlfile.Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, yamlfile.Errorf(path, format, args...))
	}
	if t.TLS.CAFile != "" {
		p := relative(t.File, t.TLS.CAFile)
		pemBytes, err := os.ReadFile(p)
		switch {
		case err != nil:
			add("$.tls.ca_file", "cannot read the CA bundle: %v", err)
		default:
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pemBytes) {
				add("$.tls.ca_file", "%s holds no PEM certificate", p)
			} else {
				t.TLS.roots = pool
			}
		}
	}
	if t.TLS.CAFile != "" && t.TLS.InsecureSkipVerify {
		add("$.tls.insecure_skip_verify", "insecure_skip_verify ignores ca_file: set one or the other")
	}
	for i := range t.Clients {
		c := &t.Clients[i]
		p := fmt.Sprintf("$.clients[%d]", i)
		switch c.AuthMethod {
		case TLSClientAuth:
			if c.CertFile == "" || c.KeyFile == "" {
				add(p, "client %q uses tls_client_auth but cert_file and key_file are not both set", c.Name)
				break
			}
			cert, err := tls.LoadX509KeyPair(relative(t.File, c.CertFile), relative(t.File, c.KeyFile))
			if err != nil {
				add(p+".cert_file", "cannot load the client certificate and key: %s", keyFileError(err))
				break
			}
			c.cert = &cert
		case PrivateKeyJWT:
			if c.PrivateKeyFile == "" {
				add(p, "client %q uses private_key_jwt but private_key_file is not set", c.Name)
				break
			}
			s, err := readSigner(relative(t.File, c.PrivateKeyFile))
			if err != nil {
				add(p+".private_key_file", "%v", err)
				break
			}
			c.signer = s
		}
		if !c.AuthMethod.UsesSecret() && !c.Secret.IsZero() {
			add(p+".secret", "client %q uses %s, which sends no secret; remove secret", c.Name, c.AuthMethod)
		}
		if c.AuthMethod != TLSClientAuth && (c.CertFile != "" || c.KeyFile != "") {
			add(p+".cert_file", "cert_file and key_file apply to auth_method tls_client_auth only")
		}
		if c.AuthMethod != PrivateKeyJWT && (c.PrivateKeyFile != "" || c.KeyID != "" || c.AssertionAlg != "") {
			add(p+".private_key_file", "private_key_file, key_id and assertion_alg apply to auth_method private_key_jwt only")
		}
		if c.AssertionAlg != "" && !slicesContains(DefaultSigningAlgs, c.AssertionAlg) {
			add(p+".assertion_alg", "unsupported assertion_alg %q; expected one of %s", c.AssertionAlg, strings.Join(DefaultSigningAlgs, ", "))
		}
	}
	return ps
}

// keyFileError keeps the cause of a key pair failure without any PEM text.
func keyFileError(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "BEGIN") {
		return "the files hold no matching PEM certificate and private key"
	}
	return msg
}

func readSigner(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the private key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block; expected a PRIVATE KEY", path)
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%s holds a %s, not a private key", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: the %s does not parse", path, block.Type)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: unsupported key type %T", path, key)
	}
	return s, nil
}

func slicesContains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// secretFieldRE matches the paths of fields that hold secrets.
var secretFieldRE = regexp.MustCompile(`^\$\.(clients\[\d+\]\.secret|users\[\d+\]\.password)$`)

// literalSecrets warns about secrets written into the file itself instead of
// referenced from the environment: a file holding one cannot be shared or
// committed. The warning names file:line, never the value. A ${NAME:-default}
// is a reference (its default serves tests, as the bundled mock files do).
func literalSecrets(file string, root ast.Node) []string {
	var out []string
	ast.Walk(visitFunc(func(n ast.Node) {
		mv, ok := n.(*ast.MappingValueNode)
		if !ok {
			return
		}
		v, ok := mv.Value.(ast.ScalarNode)
		if !ok || v.GetToken() == nil || !secretFieldRE.MatchString(v.GetPath()) {
			return
		}
		text := fmt.Sprint(v.GetValue())
		if _, null := v.(*ast.NullNode); null || text == "" || strings.Contains(text, "${") {
			return
		}
		field := yamlfile.FieldName(v.GetPath())
		out = append(out, fmt.Sprintf("%s:%d: %s is a secret written into the file; reference an environment variable instead (%s: ${NAME}) so the file holds no secret",
			file, v.GetToken().Position.Line, field, field[strings.LastIndexByte(field, '.')+1:]))
	}), root)
	return out
}

type visitFunc func(ast.Node)

func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	f(n)
	return f
}
