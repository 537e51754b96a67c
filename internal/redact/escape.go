package redact

import (
	"encoding/json"
	"net/url"
	"strings"
)

func queryEscape(v string) string { return url.QueryEscape(v) }

func jsonEscape(v string) string {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	s := string(b)
	return strings.TrimSuffix(strings.TrimPrefix(s, `"`), `"`)
}
