package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"
)

//go:embed assets/templates/*.html assets/static/*
var assets embed.FS

// pageNames are the templates under assets/templates rendered inside the
// layout.
var pageNames = []string{"login", "clients", "client", "audit", "migration", "error"}

// views holds the parsed templates and the static assets.
type views struct {
	pages map[string]*template.Template
	// version changes whenever a static asset does; it is appended to
	// asset URLs so browsers never use stale copies.
	version string
	files   fs.FS
}

func loadViews(now func() time.Time) (*views, error) {
	files, err := fs.Sub(assets, "assets/static")
	if err != nil {
		return nil, fmt.Errorf("console assets: %w", err)
	}
	sum := sha256.New()
	err = fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, path)
		if err != nil {
			return err
		}
		sum.Write([]byte(path))
		sum.Write(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console assets: %w", err)
	}
	v := &views{pages: map[string]*template.Template{}, version: hex.EncodeToString(sum.Sum(nil))[:12], files: files}
	funcs := template.FuncMap{
		"asset":      func(name string) string { return "/static/" + name + "?v=" + v.version },
		"timestamp":  formatTime,
		"ago":        func(t time.Time) string { return ago(now(), t) },
		"percent":    percent,
		"stageDesc":  func(s Stage) string { return s.Description() },
		"pathEscape": url.PathEscape,
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "assets/templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	for _, name := range pageNames {
		t, err := layout.Clone()
		if err != nil {
			return nil, fmt.Errorf("console templates: %w", err)
		}
		if _, err := t.ParseFS(assets, "assets/templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("console templates: %w", err)
		}
		v.pages[name] = t
	}
	return v, nil
}

// static serves the embedded assets; directory listings are not served.
func (v *views) static() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(v.files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// pageData is what every page template gets.
type pageData struct {
	Title     string
	Nav       string // the active navigation entry
	User      string
	Role      Role
	CanChange bool
	CSRF      string
	Body      any
}

// render executes page into a buffer first, so a template failure yields a
// clean 500 instead of half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page, title, nav string, body any) {
	id := identityFrom(r.Context())
	data := pageData{Title: title, Nav: nav, User: id.user, Role: id.role, CanChange: id.role.CanChange(), CSRF: id.csrf, Body: body}
	var buf bytes.Buffer
	if err := c.views.pages[page].ExecuteTemplate(&buf, "layout.html", data); err != nil {
		c.log.Error("render page", "page", page, "err", err)
		writeError(w, r, http.StatusInternalServerError, "internal", "internal error rendering the page")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

type errorPage struct {
	Status  int
	Heading string
	Message string
}

func (c *Console) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	c.render(w, r, status, "error", http.StatusText(status), "", errorPage{Status: status, Heading: http.StatusText(status), Message: msg})
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// ago says how long before now t was, roughly.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// percent formats part/whole as a percentage with one decimal, or "–".
func percent(part, whole uint64) string {
	if whole == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", float64(part)*100/float64(whole))
}
