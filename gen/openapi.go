// Package gen holds Sotto's generated code (under go/) and OpenAPI document
// (under openapi/). Do not edit generated files; run `make generate`.
package gen

import _ "embed"

// OpenAPI is the merged OpenAPI (Swagger 2.0) document of every REST route
// the gateway serves.
//
//go:embed openapi/sotto.swagger.json
var OpenAPI []byte
