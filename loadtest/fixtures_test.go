package loadtest

import (
	"io/fs"
	"testing"

	"github.com/idpconform/idpconform/fixtures"
)

func fixturesFS(t testing.TB) fs.FS {
	sub, err := fs.Sub(fixtures.FS, fixtures.ContractsDir)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}
