// Package admin serves sailcdn's own operator endpoints under /_sailcdn/ on the API port: the server
// clock (so developers can reach the next billing cycle) and the origin registry. Requests are
// authorised by the caller-supplied Authorize hook: open in --dev, otherwise SigV4 with an admin key.
package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sailcdn/sailcdn/internal/awsjson"
	"github.com/sailcdn/sailcdn/internal/store"
)

// Clock is the movable server clock.
type Clock interface {
	Now() time.Time
	Set(time.Time)
	Offset() time.Duration
}

// Handler serves /_sailcdn/.
type Handler struct {
	Store *store.DB
	Clock Clock
	// Authorize decides whether r may use the admin endpoints; a non-nil error is the reason it may not.
	Authorize func(r *http.Request, body []byte) error
	Logger    *slog.Logger
	// Extra routes other packages contribute (for example /_sailcdn/usage), keyed by path.
	Extra map[string]http.Handler
}

// maxBody bounds admin request bodies; they are tiny JSON objects.
const maxBody = 64 << 10

// OriginTypes are the Lightsail resource types a distribution can use as its origin.
var OriginTypes = []string{"Instance", "LoadBalancer", "Bucket", "ContainerService"}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers with an AWS-shaped error through the same writer as the Lightsail API.
func fail(w http.ResponseWriter, status int, typ, format string, args ...any) {
	awsjson.WriteError(w, &awsjson.Error{Type: typ, Status: status, Message: fmt.Sprintf(format, args...)})
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		fail(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException", "admin request bodies are limited to %d bytes", maxBody)
		return
	}
	if h.Authorize != nil {
		if err := h.Authorize(r, body); err != nil {
			// A signature problem is told as SigV4 tells it; anything else is a plain refusal.
			var apiErr awsjson.APIError
			if errors.As(err, &apiErr) {
				awsjson.WriteError(w, apiErr)
				return
			}
			fail(w, http.StatusForbidden, "AccessDeniedException", "%s", err.Error())
			return
		}
	}
	switch r.URL.Path {
	case "/_sailcdn/clock":
		h.clock(w, r, body)
	case "/_sailcdn/origins":
		h.origins(w, r, body)
	default:
		if x, ok := h.Extra[r.URL.Path]; ok {
			x.ServeHTTP(w, r)
			return
		}
		fail(w, http.StatusNotFound, "NotFoundException", "no admin endpoint %s", r.URL.Path)
	}
}

type clockBody struct {
	Now string `json:"now"`
}

func (h *Handler) clock(w http.ResponseWriter, r *http.Request, body []byte) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		var in clockBody
		if err := json.Unmarshal(body, &in); err != nil {
			fail(w, http.StatusBadRequest, "SerializationException", "body must be {\"now\": \"RFC 3339 time\"}: %v", err)
			return
		}
		t, err := time.Parse(time.RFC3339Nano, in.Now)
		if err != nil {
			fail(w, http.StatusBadRequest, "InvalidInputException", "now %q is not an RFC 3339 time such as 2026-04-01T00:00:00Z", in.Now)
			return
		}
		h.Clock.Set(t)
		// Saved, so that a restart and every other process on the same database keep this "now".
		if err := h.Store.SetClockOffset(r.Context(), h.Clock.Offset()); err != nil {
			h.log().Error("save clock offset", "err", err)
			fail(w, http.StatusInternalServerError, "ServiceException", "the clock moved but could not be saved")
			return
		}
		h.log().Info("server clock moved", "now", t.UTC().Format(time.RFC3339))
	default:
		w.Header().Set("Allow", "GET, POST")
		fail(w, http.StatusMethodNotAllowed, awsjson.TypeUnknownOperation, "use GET or POST")
		return
	}
	writeJSON(w, http.StatusOK, clockBody{Now: h.Clock.Now().UTC().Format(time.RFC3339Nano)})
}

// OriginJSON is an origin as the admin API reads and writes it.
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

func (h *Handler) origins(w http.ResponseWriter, r *http.Request, body []byte) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		var in OriginJSON
		if err := json.Unmarshal(body, &in); err != nil {
			fail(w, http.StatusBadRequest, "SerializationException", "body must be {\"name\",\"url\",\"resourceType\",\"regionName\"}: %v", err)
			return
		}
		if err := ValidateOrigin(&in); err != nil {
			fail(w, http.StatusBadRequest, "InvalidInputException", "%s", err.Error())
			return
		}
		o := store.Origin{Name: in.Name, RegionName: in.RegionName, ResourceType: in.ResourceType, URL: in.URL, CreatedAt: h.Clock.Now()}
		if err := h.Store.PutOrigin(r.Context(), o); err != nil {
			h.log().Error("put origin", "err", err)
			fail(w, http.StatusInternalServerError, "ServiceException", "could not store the origin")
			return
		}
		writeJSON(w, http.StatusOK, in)
		return
	default:
		w.Header().Set("Allow", "GET, POST")
		fail(w, http.StatusMethodNotAllowed, awsjson.TypeUnknownOperation, "use GET or POST")
		return
	}
	list, err := h.Store.ListOrigins(r.Context())
	if err != nil {
		h.log().Error("list origins", "err", err)
		fail(w, http.StatusInternalServerError, "ServiceException", "could not list origins")
		return
	}
	out := struct {
		Origins []OriginJSON `json:"origins"`
	}{Origins: []OriginJSON{}}
	for _, o := range list {
		out.Origins = append(out.Origins, OriginJSON{Name: o.Name, URL: o.URL, ResourceType: o.ResourceType, RegionName: o.RegionName})
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}
