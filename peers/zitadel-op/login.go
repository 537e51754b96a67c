package main

import (
	"context"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
)

// loginPage is the OP's login UI. Like many real IdPs' login pages it is a
// script-rendered page: the HTML holds no form until the script builds it,
// and the credentials go out with fetch. A plain HTTP form scraper finds
// nothing to fill here; idpconform's browser login driver (headless
// Chromium) is what this page needs, which is the point of writing it so.
type loginPage struct {
	store    *storage
	callback func(ctx context.Context, id string) string
}

var pageTmpl = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>zitadel-op sign in</title></head>
<body>
<main id="app" data-request="{{.}}"><noscript>This sign-in page needs JavaScript.</noscript></main>
<script>
(() => {
  const app = document.getElementById("app");
  const request = app.dataset.request;
  const render = (message) => {
    app.innerHTML = "";
    const h = document.createElement("h1");
    h.textContent = "Sign in";
    app.appendChild(h);
    if (message) {
      const p = document.createElement("p");
      p.setAttribute("role", "alert");
      p.textContent = message;
      app.appendChild(p);
    }
    const form = document.createElement("form");
    form.innerHTML = '<label>Username <input name="username" autocomplete="username"></label>' +
      '<label>Password <input type="password" name="password" autocomplete="current-password"></label>' +
      '<button type="submit">Sign in</button>';
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = new URLSearchParams(new FormData(form));
      body.set("authRequestID", request);
      const resp = await fetch("/login", {method: "POST", body, headers: {"Accept": "application/json"}});
      const out = await resp.json().catch(() => ({}));
      if (resp.ok && out.redirect) { location.assign(out.redirect); return; }
      render(out.error || "Sign-in failed.");
    });
    app.appendChild(form);
  };
  // Rendered a moment after load, as a client-side app would.
  setTimeout(() => render(""), 50);
})();
</script>
</body></html>`))

func (p *loginPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		id := r.URL.Query().Get("authRequestID")
		if id == "" {
			http.Error(w, "authRequestID missing", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := pageTmpl.Execute(w, id); err != nil {
			slog.Error("login page", "err", err)
		}
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the form does not parse"})
			return
		}
		id := r.PostForm.Get("authRequestID")
		if err := p.store.login(id, r.PostForm.Get("username"), r.PostForm.Get("password")); err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"redirect": p.callback(r.Context(), id)})
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
