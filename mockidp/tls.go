package mockidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// TestCA is a certificate authority made for one mock run: it issues the
// server certificate of a TLS mock for the loopback names and the client
// certificates of tls_client_auth tests. Its key lives in memory only; it
// must never be trusted outside a test.
type TestCA struct {
	Cert *x509.Certificate
	// PEM is the CA certificate, what a target file's tls.ca_file holds.
	PEM []byte
	key crypto.Signer
}

// NewTestCA makes a CA valid for a day around now.
func NewTestCA(name string) (*TestCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("mockidp: CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"idpconform test CA"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("mockidp: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &TestCA{Cert: cert, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key: key}, nil
}

// Pool returns a pool holding the CA.
func (ca *TestCA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// ServerCertificate issues a certificate for the loopback names (127.0.0.1,
// ::1, localhost) and any hosts given.
func (ca *TestCA) ServerCertificate(hosts ...string) (tls.Certificate, error) {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "idpconform mock"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	c, _, _, err := ca.issue(tmpl, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	return c, err
}

// ClientCertificate issues a client certificate with subject CN=commonName,
// valid from notBefore to notAfter (an expired one for a failing test), and
// returns it with its PEM certificate and key for a target file.
func (ca *TestCA) ClientCertificate(commonName string, notBefore, notAfter time.Time) (cert tls.Certificate, certPEM, keyPEM []byte, err error) {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return ca.issue(tmpl, notBefore, notAfter)
}

func (ca *TestCA) issue(tmpl *x509.Certificate, notBefore, notAfter time.Time) (tls.Certificate, []byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	tmpl.SerialNumber = serial()
	tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		return tls.Certificate{}, nil, nil, fmt.Errorf("mockidp: issue certificate: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	return c, certPEM, keyPEM, err
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

// NewTLSServer starts a mock serving HTTPS on addr ("" means 127.0.0.1:0)
// with a certificate from a test CA made for it (Server.CA). The CA also
// verifies the certificates of tls_client_auth clients unless o.ClientCAs is
// set. o.Issuer, when empty, becomes https://ADDR.
func NewTLSServer(addr string, o Options) (*Server, error) {
	ca, err := NewTestCA("idpconform mock CA")
	if err != nil {
		return nil, err
	}
	if o.ClientCAs == nil {
		o.ClientCAs = ca.Pool()
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mockidp: listen %s: %w", addr, err)
	}
	if o.Issuer == "" {
		o.Issuer = "https://" + ln.Addr().String()
	}
	s, err := newServerOn(ln, o)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	cert, err := ca.ServerCertificate()
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	s.CA = ca
	// Client certificates are requested, not verified, in the handshake:
	// the token endpoint verifies them against the CA and the client's
	// registration, so a bad one gets an OAuth error that says why instead
	// of a failed handshake.
	s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	s.Listener = tls.NewListener(ln, s.srv.TLSConfig)
	s.Start()
	return s, nil
}
