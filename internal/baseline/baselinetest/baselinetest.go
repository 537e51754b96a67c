// Package baselinetest captures baselines of the bundled mock for tests:
// the target files of fixtures/targets, started in-process on loopback
// through suites/framework as the CLI does.
package baselinetest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/idpconform/idpconform/fixtures"
	"github.com/idpconform/idpconform/internal/baseline"
	"github.com/idpconform/idpconform/internal/contract"
	"github.com/idpconform/idpconform/internal/oauth"
	"github.com/idpconform/idpconform/internal/redact"
	"github.com/idpconform/idpconform/internal/target"
	fw "github.com/idpconform/idpconform/suites/framework"
)

// Target reads a bundled target file (e.g. "mock-akoya") and adds drift to
// its mock section.
func Target(t testing.TB, name string, drift ...string) *target.Target {
	t.Helper()
	src, err := fixtures.FS.ReadFile(fixtures.TargetsDir + "/" + name + ".yaml")
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

// Contracts returns the bundled contracts.
func Contracts(t testing.TB) contract.Set {
	t.Helper()
	cs, err := contract.LoadFS(fixtures.FS, fixtures.ContractsDir)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// Capture starts the target's embedded mock and captures it with h,
// returning the baseline, the run's secrets and every exchange.
func Capture(t testing.TB, tg *target.Target, h *baseline.Hasher, samples int) (*baseline.Baseline, *redact.Registry, *oauth.Recorder) {
	t.Helper()
	cs := Contracts(t)
	reg := redact.New()
	f := fw.New(tg, reg, cs)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := f.Teardown(); err != nil {
			t.Error(err)
		}
	}()
	rec := oauth.NewRecorder()
	env := baseline.Env{Target: tg, Contracts: cs, Issuer: f.Issuer, Endpoints: f.Endpoints, Metadata: f.Metadata, DiscoveryErr: f.DiscoveryErr,
		OAuth: f.OAuth.WithRecorder(rec), Verifier: f.Verifier, Secrets: reg}
	b, err := baseline.Capture(ctx, env, baseline.Options{Hasher: h, Samples: samples, Tool: "idpconform test"})
	if err != nil {
		t.Fatal(err)
	}
	return b, reg, rec
}

// Hasher returns a generated key.
func Hasher(t testing.TB) *baseline.Hasher {
	t.Helper()
	h, err := baseline.GenerateHasher()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
