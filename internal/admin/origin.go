package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sailcdn/sailcdn/internal/store"
)

// OriginTypes are the Lightsail resource types a distribution can use as its origin.
var OriginTypes = []string{"Instance", "LoadBalancer", "Bucket", "ContainerService"}

// OriginJSON is an origin as the admin API reads and writes it (and --origin registers it).
type OriginJSON struct {
	Name         string `json:"name"`
	URL          string `json:"url"`
	ResourceType string `json:"resourceType"`
	RegionName   string `json:"regionName"`
}

// ValidateOrigin checks an origin registration and fills the defaults (Instance, us-east-1).
func ValidateOrigin(o *OriginJSON) error {
	if o.ResourceType == "" {
		o.ResourceType = "Instance"
	}
	if o.RegionName == "" {
		o.RegionName = "us-east-1"
	}
	if o.Name == "" || strings.ContainsAny(o.Name, " /") {
		return errors.New("name is required and may not contain spaces or '/'")
	}
	if !slices.Contains(OriginTypes, o.ResourceType) {
		return fmt.Errorf("resourceType %q is not one of %s", o.ResourceType, strings.Join(OriginTypes, ", "))
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q must be an absolute http:// or https:// URL", o.URL)
	}
	return nil
}

// originList is the body of GET /_sailcdn/origins.
type originList struct {
	Origins []OriginJSON `json:"origins"`
}

func (h *Handler) listOrigins(r *http.Request, _ []byte) (any, error) {
	list, err := h.cfg.Store.ListOrigins(r.Context())
	if err != nil {
		return nil, serverFailed("list origins", err)
	}
	out := originList{Origins: []OriginJSON{}}
	for _, o := range list {
		out.Origins = append(out.Origins, OriginJSON{Name: o.Name, URL: o.URL, ResourceType: o.ResourceType, RegionName: o.RegionName})
	}
	return out, nil
}

func (h *Handler) putOrigin(r *http.Request, body []byte) (any, error) {
	var in OriginJSON
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, badBody(`{"name","url","resourceType","regionName"}`, err)
	}
	if err := ValidateOrigin(&in); err != nil {
		return nil, invalidInput("%s", err.Error())
	}
	o := store.Origin{Name: in.Name, RegionName: in.RegionName, ResourceType: in.ResourceType, URL: in.URL, CreatedAt: h.cfg.Clock.Now()}
	if err := h.cfg.Store.PutOrigin(r.Context(), o); err != nil {
		return nil, serverFailed("store the origin", err)
	}
	return in, nil
}
