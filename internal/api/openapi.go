package api

import (
	_ "embed"
	"net/http"

	"github.com/sealpost/sealpost/internal/tenant"
)

// OpenAPIDocument is the API's OpenAPI 3.1 description, kept in step with Routes and
// the request types by TestOpenAPIMatchesRoutes.
//
//go:embed openapi.json
var OpenAPIDocument []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request, _ *tenant.Principal) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(OpenAPIDocument)
	return nil
}
