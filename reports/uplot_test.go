package reports

import (
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/tsenart/vegeta/v12/lib/plot"
)

// TestUPlotIsTheBuildItsNoticeNames: the uPlot inlined is the build the
// notice describes (version and digest), so a vegeta upgrade that brings
// another uPlot fails here until the notice is checked again.
func TestUPlotIsTheBuildItsNoticeNames(t *testing.T) {
	u, err := uPlotFiles()
	if err != nil {
		t.Fatal(err)
	}
	if u.digest != uPlotSHA256 {
		t.Errorf("vegeta's uPlot.min.js has sha256 %s, the notice describes %s", u.digest, uPlotSHA256)
	}
	header := regexp.MustCompile(`/\*! https://github.com/leeoniya/uPlot \((v[0-9.]+)\) \*/`).FindSubmatch(u.js[len(uPlotNotice):])
	if header == nil {
		t.Fatal("uPlot.min.js has no version header")
	}
	if !strings.Contains(uPlotNotice, "uPlot "+string(header[1])+" ") {
		t.Errorf("the notice does not name the shipped version %s", header[1])
	}
	f, err := plot.Assets.Open("VERSIONS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	versions, _ := io.ReadAll(f)
	if !strings.Contains(string(versions), "uPlot "+string(header[1])) {
		t.Errorf("vegeta's VERSIONS says %q, the script says %s", versions, header[1])
	}
	if !strings.HasPrefix(string(u.js), uPlotNotice) || !strings.Contains(uPlotNotice, "MIT License") {
		t.Error("the inlined script does not start with uPlot's MIT notice")
	}
}
