// Package lightsail is sailcdn's Lightsail wire layer: the request and response types, enums and
// validation of the official API model (generated into zz_*.go by internal/tools/apigen), the API
// interface the control plane implements, and the one table of Lightsail errors.
package lightsail

//go:generate go run ../tools/apigen -out .
