package web

import (
	"errors"
	"net/http"

	"github.com/sealpost/sealpost/internal/mailtemplate"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/strictjson"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// templateRoutes: stored templates listed, created and edited through the template
// service the API's routes call; "Preview" renders the form's draft with sample data
// by the renderer sending uses, on the server, storing nothing.
func (s *Server) templateRoutes() {
	s.navPage("/app/templates", s.templatesPage)
	s.handle("GET /app/templates/new", people.StageFull, s.newTemplatePage)
	s.handle("GET /app/templates/{id}", people.StageFull, s.templatePage)
	s.handle("POST /app/templates", people.StageFull, s.saveTemplate)
	s.handle("POST /app/templates/{id}", people.StageFull, s.saveTemplate)
	s.handle("POST /app/templates/{id}/delete", people.StageFull, s.deleteTemplate)
}

type templatesData struct {
	Templates []*mailtemplate.Template
	CanManage bool
}

func (s *Server) templatesPage(q *request) error {
	ts, err := s.Templates.List(q.ctx, q.sess.TenantID, "", 200)
	if err != nil {
		return err
	}
	v := q.view(s, "Templates")
	v.Data = templatesData{Templates: ts, CanManage: s.can(q, "POST", "/v1/templates")}
	if q.r.URL.Query().Get("deleted") == "1" {
		v.Notice = "The template was deleted."
	}
	return s.pages.render(q.w, http.StatusOK, "templates", v)
}

// templateForm is the editor's state.
type templateForm struct {
	ID, Name, Subject, Text, HTML string
	Data                          string // sample data for the preview, as JSON
	Problems                      []fieldProblem
	Preview                       *mailtemplate.Rendered
	CanManage                     bool
}

func (s *Server) showTemplate(q *request, status int, f templateForm) error {
	title := "New template"
	if f.ID != "" {
		title = "Template " + f.Name
	}
	if f.Data == "" {
		f.Data = `{"first_name": "Alex", "appointment": "Tuesday 10:30"}`
	}
	f.CanManage = s.can(q, "POST", "/v1/templates")
	v := q.view(s, title)
	v.Data = f
	switch {
	case len(f.Problems) > 0:
		v.Error = "See the problems below."
	case q.r.URL.Query().Get("saved") == "1":
		v.Notice = "Saved."
	}
	return s.pages.render(q.w, status, "template", v)
}

func (s *Server) newTemplatePage(q *request) error {
	if err := s.require(q, "POST", "/v1/templates"); err != nil {
		return err
	}
	return s.showTemplate(q, http.StatusOK, templateForm{Subject: "Your appointment", Text: "Dear {{first_name}},\n\nYour appointment is on {{appointment}}.\n"})
}

func (s *Server) templatePage(q *request) error {
	if err := s.require(q, "GET", "/v1/templates/{id}"); err != nil {
		return err
	}
	t, err := s.Templates.Get(q.ctx, q.sess.TenantID, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	c := t.Content
	return s.showTemplate(q, http.StatusOK, templateForm{ID: t.ID, Name: t.Name, Subject: c.Subject, Text: c.Text, HTML: c.HTML})
}

// saveTemplate saves the form, or previews it when the Preview button sent it.
func (s *Server) saveTemplate(q *request) error {
	id := q.r.PathValue("id")
	method, route := "POST", "/v1/templates"
	if id != "" {
		method, route = "PUT", "/v1/templates/{id}"
	}
	if err := s.require(q, method, route); err != nil {
		return err
	}
	p := q.r.PostForm
	f := templateForm{ID: id, Name: p.Get("name"), Subject: p.Get("subject"), Text: p.Get("text"), HTML: p.Get("html"), Data: p.Get("data")}
	c := &pipeline.TemplateContent{Subject: f.Subject, Text: f.Text, HTML: f.HTML}
	if id != "" {
		// Keep what the form does not edit (tracking), and find another tenant's id
		// not found before anything is checked.
		cur, err := s.Templates.Get(q.ctx, q.sess.TenantID, id)
		if err != nil {
			return err
		}
		c.Track = cur.Content.Track
	}
	if p.Get("action") == "preview" {
		var data map[string]any
		if err := strictjson.Decode([]byte(f.Data), &data); err != nil {
			var se *strictjson.Error
			if !errors.As(err, &se) {
				return err
			}
			f.Problems = append(f.Problems, fieldProblem{"data", se.Error()})
			return s.showTemplate(q, http.StatusUnprocessableEntity, f)
		}
		r, fe := mailtemplate.Render(c, data)
		for _, e := range fe {
			f.Problems = append(f.Problems, fieldProblem{e.Field, e.Detail})
		}
		f.Preview = r
		if len(fe) > 0 {
			return s.showTemplate(q, http.StatusUnprocessableEntity, f)
		}
		return s.showTemplate(q, http.StatusOK, f)
	}
	var t *mailtemplate.Template
	var fe []*mailtemplate.FieldError
	var err error
	if id == "" {
		t, fe, err = s.Templates.Create(q.ctx, q.sess.TenantID, f.Name, c)
	} else {
		t, fe, err = s.Templates.Update(q.ctx, q.sess.TenantID, id, f.Name, c)
	}
	if err != nil {
		return err
	}
	if len(fe) > 0 {
		for _, e := range fe {
			f.Problems = append(f.Problems, fieldProblem{e.Field, e.Detail})
		}
		return s.showTemplate(q, http.StatusUnprocessableEntity, f)
	}
	s.record(q, method+" "+route, t.ID, map[string]string{"POST": "201", "PUT": "200"}[method])
	return q.redirect("/app/templates/" + t.ID + "?saved=1")
}

func (s *Server) deleteTemplate(q *request) error {
	if err := s.require(q, "DELETE", "/v1/templates/{id}"); err != nil {
		return err
	}
	id := q.r.PathValue("id")
	if err := s.Templates.Delete(q.ctx, q.sess.TenantID, id); err != nil {
		return err
	}
	s.record(q, "DELETE /v1/templates/{id}", id, "204")
	return q.redirect("/app/templates?deleted=1")
}
