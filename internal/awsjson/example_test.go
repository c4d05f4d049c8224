package awsjson_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sailcdn/sailcdn/internal/awsjson"
)

// A Server routes X-Amz-Target to handlers that return values or errors; it writes both.
func ExampleServer() {
	srv := &awsjson.Server{
		TargetPrefix: "Lightsail_20161128",
		ServiceName:  "Lightsail",
		Known:        []string{"GetDistributions", "CreateDistribution"},
		Handlers: map[string]awsjson.Handler{
			"GetDistributions": func(ctx context.Context, decode func(any) error) (any, error) {
				var in struct {
					DistributionName string `json:"distributionName"`
				}
				if err := decode(&in); err != nil {
					return nil, err
				}
				return map[string]any{"distributions": []any{}}, nil
			},
		},
	}

	send := func(target, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", target)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("X-Amzn-ErrorType"), rec.Body.String())
	}
	send("Lightsail_20161128.GetDistributions", `{"distributionName":"my-cdn"}`)
	send("Lightsail_20161128.GetDistributions", `{"distributionName":7}`)
	send("Lightsail_20161128.CreateDistribution", `{}`)
	// Output:
	// 200  {"distributions":[]}
	// 400 SerializationException {"__type":"SerializationException","code":"SerializationException","message":"Member 'distributionName': cannot read JSON number as a string (byte offset 21)."}
	// 501 NotImplementedException {"__type":"NotImplementedException","code":"NotImplementedException","message":"sailcdn does not implement the Lightsail operation CreateDistribution"}
}
