package baseline

import (
	"context"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/idpconform/idpconform/fixtures"
	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/target"
	fw "github.com/idpconform/idpconform/suites/framework"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// loadTarget reads a bundled target file and adds drift to its mock.
func loadTarget(t testing.TB, name string, drift ...string) *target.Target {
	t.Helper()
	src, err := fixtures.FS.ReadFile("targets/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	tg, err := target.Parse(name+".yaml", src, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	tg.Mock.Drift = append(tg.Mock.Drift, drift...)
	if err := tg.Mock.Check(); err != nil {
		t.Fatal(err)
	}
	return tg
}

// capture starts the target's embedded mock on loopback and captures it.
func capture(t testing.TB, tg *target.Target, h *Hasher, samples int) (*Baseline, *redact.Registry, *oauth.Recorder) {
	t.Helper()
	cs, err := contract.LoadFS(fixtures.FS, fixtures.ContractsDir)
	if err != nil {
		t.Fatal(err)
	}
	reg := redact.New()
	f := fw.New(tg, reg, cs)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	defer f.Teardown()
	rec := oauth.NewRecorder()
	env := Env{Target: tg, Contracts: cs, Issuer: f.Issuer, Endpoints: f.Endpoints, Metadata: f.Metadata, DiscoveryErr: f.DiscoveryErr,
		OAuth: f.OAuth.WithRecorder(rec), Verifier: f.Verifier, Secrets: reg}
	b, err := Capture(ctx, env, Options{Hasher: h, Samples: samples, Tool: "idpconform test"})
	if err != nil {
		t.Fatal(err)
	}
	return b, reg, rec
}
