package awsjson

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"
	"github.com/aws/smithy-go"
)

// TestRealSDKDecodesResponses uses the real aws-sdk-go-v2 Lightsail client as the oracle for the wire
// format: results decode into its output types, service errors into its typed exceptions with
// code/docs/tip, protocol errors into API errors with our exception names, and the request id
// reaches its metadata.
func TestRealSDKDecodesResponses(t *testing.T) {
	s := &Server{
		TargetPrefix: "Lightsail_20161128",
		ServiceName:  "Lightsail",
		Known:        []string{"GetDistributionBundles", "GetDistributions", "CreateDistribution", "DeleteDistribution"},
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Handlers: map[string]Handler{
			"GetDistributionBundles": func(context.Context, func(any) error) (any, error) {
				type bundle struct {
					BundleID             string  `json:"bundleId"`
					Name                 string  `json:"name"`
					Price                float32 `json:"price"`
					TransferPerMonthInGb int32   `json:"transferPerMonthInGb"`
					IsActive             bool    `json:"isActive"`
				}
				return map[string]any{"bundles": []bundle{{"small_1_0", "Small", 2.5, 100, true}}}, nil
			},
			"GetDistributions": func(_ context.Context, decode func(any) error) (any, error) {
				var in struct {
					DistributionName string `json:"distributionName"`
				}
				if err := decode(&in); err != nil {
					return nil, err
				}
				return nil, notFound{name: in.DistributionName}
			},
			"DeleteDistribution": func(context.Context, func(any) error) (any, error) {
				return nil, errors.New("disk on fire")
			},
		},
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	client := lightsail.New(lightsail.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
	})
	ctx := context.Background()

	t.Run("result decodes into the SDK's output type", func(t *testing.T) {
		out, err := client.GetDistributionBundles(ctx, &lightsail.GetDistributionBundlesInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Bundles) != 1 || aws.ToString(out.Bundles[0].BundleId) != "small_1_0" ||
			aws.ToFloat32(out.Bundles[0].Price) != 2.5 || aws.ToInt32(out.Bundles[0].TransferPerMonthInGb) != 100 {
			t.Errorf("bundles = %+v", out.Bundles)
		}
		if id, ok := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); !ok || id == "" {
			t.Errorf("SDK saw no request id")
		}
	})

	t.Run("service error decodes into the typed exception with code, docs, tip", func(t *testing.T) {
		_, err := client.GetDistributions(ctx, &lightsail.GetDistributionsInput{DistributionName: aws.String("my-cdn")})
		var nf *types.NotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("err = %v, want *types.NotFoundException", err)
		}
		if nf.ErrorCode() != "NotFoundException" || aws.ToString(nf.Code) != "DoesNotExist" ||
			aws.ToString(nf.Message) != "Requested resource not found: my-cdn" ||
			aws.ToString(nf.Docs) != "https://lightsail.aws.amazon.com/ls/docs" || aws.ToString(nf.Tip) != "Check the distribution name." {
			t.Errorf("exception = code %q, members %q %q %q %q", nf.ErrorCode(), aws.ToString(nf.Code), aws.ToString(nf.Message), aws.ToString(nf.Docs), aws.ToString(nf.Tip))
		}
		var re *awshttp.ResponseError
		if !errors.As(err, &re) || re.ServiceRequestID() == "" || re.HTTPStatusCode() != 404 {
			t.Errorf("response error = %+v", re)
		}
	})

	cases := []struct {
		name        string
		call        func() error
		wantCode    string
		wantMessage string
		wantStatus  int
	}{
		{
			name: "known but unimplemented operation",
			call: func() error {
				_, err := client.CreateDistribution(ctx, &lightsail.CreateDistributionInput{
					DistributionName: aws.String("d"), BundleId: aws.String("small_1_0"),
					Origin:               &types.InputOrigin{Name: aws.String("o")},
					DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting},
				})
				return err
			},
			wantCode: TypeNotImplemented, wantMessage: "sailcdn does not implement the Lightsail operation CreateDistribution", wantStatus: 501,
		},
		{
			name: "operation the server does not know",
			call: func() error {
				_, err := client.GetDistributionLatestCacheReset(ctx, &lightsail.GetDistributionLatestCacheResetInput{})
				return err
			},
			wantCode: TypeUnknownOperation, wantMessage: `Unknown operation "GetDistributionLatestCacheReset".`, wantStatus: 400,
		},
		{
			name: "unknown error",
			call: func() error {
				_, err := client.DeleteDistribution(ctx, &lightsail.DeleteDistributionInput{})
				return err
			},
			wantCode: TypeInternalFailure, wantMessage: InternalFailure().Message, wantStatus: 500,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.wantCode || apiErr.ErrorMessage() != tc.wantMessage {
				t.Fatalf("err = %v, want %s %q", err, tc.wantCode, tc.wantMessage)
			}
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != tc.wantStatus {
				t.Errorf("status = %v, want %d", re, tc.wantStatus)
			}
		})
	}
}
