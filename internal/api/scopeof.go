package api

// RouteScope is the scope the route method+path needs ("" when there is no such
// route): other faces ask it so a page allows exactly what the API route would.
func RouteScope(method, path string) (string, bool) {
	for _, rt := range Routes() {
		if rt.Method == method && rt.Path == path {
			return rt.Scope, true
		}
	}
	return "", false
}
