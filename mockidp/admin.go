package mockidp

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// State is what the control handle and GET {issuer}/_admin report.
type State struct {
	Issuer      string         `json:"issuer"`
	Profile     string         `json:"profile"`
	SigningAlg  string         `json:"signing_alg"`
	KeyIDs      []string       `json:"key_ids"`
	Drift       []string       `json:"drift"`
	Faults      []string       `json:"faults"`
	ClockOffset string         `json:"clock_offset"`
	Now         time.Time      `json:"now"`
	AutoLogin   bool           `json:"auto_login"`
	Issued      int            `json:"issued"`
	Stored      map[string]int `json:"stored"`
}

// State returns a snapshot of the mock's configuration and counters.
func (m *IdP) State() State {
	s := State{Issuer: m.issuer, Profile: m.profile.Name, SigningAlg: string(m.keys.alg()), KeyIDs: m.keys.kids(),
		Drift: []string{}, Faults: []string{}, ClockOffset: m.clock.getOffset().String(), Now: m.clock.now(),
		AutoLogin: m.autoLogin, Issued: m.IssuedCount(), Stored: m.store.sizes()}
	for _, d := range m.ActiveDrift() {
		s.Drift = append(s.Drift, d.String())
	}
	for _, f := range m.ActiveFaults() {
		s.Faults = append(s.Faults, f.String())
	}
	return s
}

// The admin API (Options.Admin), under {issuer}/_admin, answering loopback
// clients only. Every write answers with the new State; errors are 400 with
// {"error": "..."}.
//
//	GET    /_admin                 the State
//	GET    /_admin/catalog         {"faults": [FaultInfo], "drifts": [DriftInfo], "profiles": [...]}
//	PUT    /_admin/faults          {"faults": ["latency=50ms", ...]} replaces the faults
//	POST   /_admin/faults          {"fault": "status-5xx=0.1"} adds one
//	DELETE /_admin/faults          switches every fault off
//	DELETE /_admin/faults/{name}   switches one off
//	PUT    /_admin/drift           {"drift": ["drop-claim=sub", ...]} replaces the drift
//	DELETE /_admin/drift           switches every drift off
//	POST   /_admin/keys/rotate     {"drop_old": false} rotates the signing key
//	POST   /_admin/clock           {"advance": "90s"} or {"offset": "0s"} moves the clock
//	POST   /_admin/reset           faults and drift off, clock offset zero
func (m *IdP) adminRoutes(mux *http.ServeMux) {
	p := m.prefix + PathAdmin
	h := func(pattern string, f func(r *http.Request) error) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.HandleFunc(method+" "+p+path, func(w http.ResponseWriter, r *http.Request) {
			if !loopbackRemote(r.RemoteAddr) {
				writeJSON(w, http.StatusForbidden, map[string]string{"error": "the admin API answers loopback clients only"})
				return
			}
			if err := f(r); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			writeJSON(w, http.StatusOK, m.State())
		})
	}
	none := func(*http.Request) error { return nil }
	h("GET ", none)
	mux.HandleFunc("GET "+p+"/catalog", func(w http.ResponseWriter, r *http.Request) {
		if !loopbackRemote(r.RemoteAddr) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "the admin API answers loopback clients only"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"faults": Faults(), "drifts": Drifts(), "profiles": Profiles()})
	})
	h("PUT /faults", func(r *http.Request) error {
		var body struct {
			Faults []string `json:"faults"`
		}
		if err := readJSON(r, &body); err != nil {
			return err
		}
		fs, err := ParseFaults(body.Faults)
		if err != nil {
			return err
		}
		return m.SetFaults(fs...)
	})
	h("POST /faults", func(r *http.Request) error {
		var body struct {
			Fault string `json:"fault"`
		}
		if err := readJSON(r, &body); err != nil {
			return err
		}
		f, err := ParseFault(body.Fault)
		if err != nil {
			return err
		}
		return m.AddFault(f)
	})
	h("DELETE /faults", func(*http.Request) error { return m.SetFaults() })
	h("DELETE /faults/{name}", func(r *http.Request) error {
		name := FaultName(r.PathValue("name"))
		if _, ok := LookupFault(name); !ok {
			return fmt.Errorf("unknown fault %q; valid faults: %s", name, strings.Join(FaultNames(), ", "))
		}
		m.RemoveFault(name)
		return nil
	})
	h("PUT /drift", func(r *http.Request) error {
		var body struct {
			Drift []string `json:"drift"`
		}
		if err := readJSON(r, &body); err != nil {
			return err
		}
		ds, err := ParseDrifts(body.Drift)
		if err != nil {
			return err
		}
		return m.SetDrift(ds...)
	})
	h("DELETE /drift", func(*http.Request) error { return m.SetDrift() })
	h("POST /keys/rotate", func(r *http.Request) error {
		var body struct {
			DropOld bool `json:"drop_old"`
		}
		if err := readJSON(r, &body); err != nil {
			return err
		}
		if err := m.RotateKeys(); err != nil {
			return err
		}
		if body.DropOld {
			m.DropOldKeys()
		}
		return nil
	})
	h("POST /clock", func(r *http.Request) error {
		var body struct {
			Advance *string `json:"advance"`
			Offset  *string `json:"offset"`
		}
		if err := readJSON(r, &body); err != nil {
			return err
		}
		switch {
		case body.Advance != nil && body.Offset != nil:
			return fmt.Errorf(`give "advance" or "offset", not both`)
		case body.Advance != nil:
			d, err := time.ParseDuration(*body.Advance)
			if err != nil {
				return fmt.Errorf("advance %q: expected a duration such as 90s or -1h", *body.Advance)
			}
			m.AdvanceClock(d)
		case body.Offset != nil:
			d, err := time.ParseDuration(*body.Offset)
			if err != nil {
				return fmt.Errorf("offset %q: expected a duration such as 0s or 2h", *body.Offset)
			}
			m.SetClockOffset(d)
		default:
			return fmt.Errorf(`expected {"advance": "90s"} or {"offset": "0s"}`)
		}
		return nil
	})
	h("POST /reset", func(*http.Request) error { return m.Reset() })
}

// readJSON decodes a small JSON body strictly; an empty body is an empty
// object.
func readJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBytes))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	return nil
}

func loopbackRemote(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
