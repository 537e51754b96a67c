package login

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/net/html"
)

// form is an HTML form as a browser would submit it.
type form struct {
	method, action string
	fields         []field
	submits        []field // submit buttons: name/value sent only for the one clicked
	hasPassword    bool
}

type field struct {
	name, value, typ string
}

var (
	approveWords  = regexp.MustCompile(`(?i)\b(allow|approve|accept|authori[sz]e|consent|continue|yes|grant|confirm)\b`)
	denyWords     = regexp.MustCompile(`(?i)\b(deny|reject|cancel|decline|no)\b`)
	usernameNames = regexp.MustCompile(`(?i)^(username|user|login|email|user_?name|identifier|uname|j_username)$`)
)

// nextRequest reads a page and returns the request that submits its login
// or consent form for u.
func nextRequest(page *url.URL, body []byte, u User, credentialsSent bool) (*http.Request, bool, error) {
	forms, err := parseForms(body)
	if err != nil {
		return nil, false, err
	}
	if len(forms) == 0 {
		// A page that builds its form with script (many hosted sign-in
		// pages) is empty to an HTML parser: say which driver it needs.
		if bytes.Contains(bytes.ToLower(body), []byte("<script")) {
			return nil, false, fmt.Errorf("%w (the page runs scripts: a login page built by JavaScript needs login.driver: browser)", ErrNoForm)
		}
		return nil, false, ErrNoForm
	}
	f := pick(forms)
	if f.hasPassword && credentialsSent {
		return nil, false, ErrRejected
	}
	values := url.Values{}
	for _, fd := range f.fields {
		values.Add(fd.name, fd.value)
	}
	if f.hasPassword {
		user := usernameField(f)
		if user == "" {
			return nil, false, fmt.Errorf("%w: a password field but no username field", ErrNoForm)
		}
		values.Set(user, u.Username)
		for _, fd := range f.fields {
			if fd.typ == "password" {
				values.Set(fd.name, u.Password)
			}
		}
	}
	if s, ok := chooseSubmit(f.submits, u.Deny); ok && s.name != "" {
		values.Set(s.name, s.value)
	} else if !f.hasPassword && len(f.submits) > 1 {
		return nil, false, fmt.Errorf("%w: consent form with %d buttons, none recognisably approve or deny", ErrNoForm, len(f.submits))
	}

	action, err := page.Parse(f.action)
	if err != nil {
		return nil, false, fmt.Errorf("form action %q does not parse: %w", f.action, err)
	}
	if strings.EqualFold(f.method, http.MethodGet) {
		action.RawQuery = values.Encode()
		req, err := http.NewRequest(http.MethodGet, action.String(), nil)
		return req, f.hasPassword, err
	}
	encoded := values.Encode()
	req, err := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(encoded))
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(encoded)), nil }
	return req, f.hasPassword, nil
}

// pick prefers a login form, then a consent form (one with submit buttons).
func pick(forms []form) form {
	for _, f := range forms {
		if f.hasPassword {
			return f
		}
	}
	for _, f := range forms {
		if len(f.submits) > 0 {
			return f
		}
	}
	return forms[0]
}

func usernameField(f form) string {
	var firstText string
	for _, fd := range f.fields {
		if usernameNames.MatchString(fd.name) {
			return fd.name
		}
		if firstText == "" && (fd.typ == "text" || fd.typ == "email" || fd.typ == "") {
			firstText = fd.name
		}
	}
	return firstText
}

func chooseSubmit(submits []field, deny bool) (field, bool) {
	words := approveWords
	if deny {
		words = denyWords
	}
	for _, s := range submits {
		if words.MatchString(s.value) || words.MatchString(s.name) {
			return s, true
		}
	}
	if len(submits) == 1 && !deny {
		return submits[0], true
	}
	return field{}, false
}

// parseForms extracts every form of an HTML page with its successful
// controls (HTML §4.10.21.4, simplified: no file inputs, first option of a
// select unless one is selected).
func parseForms(body []byte) ([]form, error) {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("page is not HTML: %w", err)
	}
	var forms []form
	var cur *form
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				forms = append(forms, form{method: attr(n, "method"), action: attr(n, "action")})
				cur = &forms[len(forms)-1]
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
				cur = nil
				return
			case "input":
				if cur != nil {
					addInput(cur, n)
				}
			case "button":
				if cur != nil {
					t := strings.ToLower(attr(n, "type"))
					if t == "" || t == "submit" {
						v := attr(n, "value")
						if v == "" {
							v = strings.TrimSpace(text(n))
						}
						cur.submits = append(cur.submits, field{name: attr(n, "name"), value: v, typ: "submit"})
					}
				}
			case "select":
				if cur != nil && attr(n, "name") != "" {
					cur.fields = append(cur.fields, field{name: attr(n, "name"), value: selected(n), typ: "select"})
				}
			case "textarea":
				if cur != nil && attr(n, "name") != "" {
					cur.fields = append(cur.fields, field{name: attr(n, "name"), value: text(n), typ: "textarea"})
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return forms, nil
}

func addInput(f *form, n *html.Node) {
	name := attr(n, "name")
	t := strings.ToLower(attr(n, "type"))
	if _, disabled := attrOK(n, "disabled"); disabled {
		return
	}
	switch t {
	case "submit", "image":
		f.submits = append(f.submits, field{name: name, value: attr(n, "value"), typ: "submit"})
		return
	case "password":
		f.hasPassword = true
	case "checkbox", "radio":
		if _, checked := attrOK(n, "checked"); !checked {
			return
		}
		if attr(n, "value") == "" {
			f.fields = append(f.fields, field{name: name, value: "on", typ: t})
			return
		}
	case "button", "reset", "file":
		return
	}
	if name == "" {
		return
	}
	f.fields = append(f.fields, field{name: name, value: attr(n, "value"), typ: t})
}

func selected(n *html.Node) string {
	first, found := "", false
	var walk func(*html.Node) string
	walk = func(c *html.Node) string {
		for ; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == "option" {
				v, ok := attrOK(c, "value")
				if !ok {
					v = strings.TrimSpace(text(c))
				}
				if !found {
					first, found = v, true
				}
				if _, sel := attrOK(c, "selected"); sel {
					return v
				}
			}
			if r := walk(c.FirstChild); r != "" {
				return r
			}
		}
		return ""
	}
	if v := walk(n.FirstChild); v != "" {
		return v
	}
	return first
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Val, true
		}
	}
	return "", false
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(c *html.Node) {
		for ; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				b.WriteString(c.Data)
			}
			walk(c.FirstChild)
		}
	}
	walk(n.FirstChild)
	return b.String()
}
