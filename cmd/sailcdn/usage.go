package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sailcdn/sailcdn/internal/admin"
	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/billing"
)

// usageCmd prints every distribution's current billing cycle against its quota, as the running server
// computes it (its clock may have been moved, so the figures come from the server, not from the database
// directly). Outside --dev the request is signed with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of an
// admin key.
func usageCmd(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("usage", flag.ContinueOnError)
	addr := fs.String("api-addr", envOr("SAILCDN_API_ADDR", app.DefaultAPIAddr), "address of the running sailcdn API")
	account := fs.String("account", "", "only this account's distributions")
	asJSON := fs.Bool("json", false, "print the JSON report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	url := "http://" + *addr + "/_sailcdn/usage"
	if *account != "" {
		url += "?account=" + *account
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		empty := sha256.Sum256(nil)
		creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(empty[:]), "lightsail", "us-east-1", time.Now()); err != nil {
			return err
		}
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("is sailcdn serve running on %s? %w", *addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body))
	}
	if *asJSON {
		_, err := out.Write(body)
		return err
	}
	var rep admin.UsageReport
	if err := json.Unmarshal(body, &rep); err != nil {
		return err
	}
	return printUsage(out, rep)
}

func printUsage(out io.Writer, rep admin.UsageReport) error {
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "as of %s\n", rep.Now.UTC().Format(time.RFC3339))
	fmt.Fprintln(tw, "ACCOUNT\tDISTRIBUTION\tCYCLE\tBUNDLE\tUSED\tQUOTA\tUSED %\tOVERAGE\tCOST SO FAR\tPROJECTED")
	for _, r := range rep.Distributions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d.%02d%%\t%s\t%s\t%s\n", r.AccountID, r.Distribution, r.Cycle, r.BundleID,
			gbString(r.UsedBytes), gbString(r.QuotaBytes), r.UsedBasisPoints/100, r.UsedBasisPoints%100,
			gbString(r.OverageBytes), dollars(r.CostSoFar), dollars(r.ProjectedMonthly))
	}
	return tw.Flush()
}

// gbString prints bytes as decimal GB with three decimals, from integers (no float rounding surprises).
func gbString(b int64) string {
	return fmt.Sprintf("%d.%03d GB", b/billing.BytesPerGB, (b%billing.BytesPerGB)/1_000_000)
}

// dollars prints micros as dollars and cents, rounded down to the cent.
func dollars(m billing.Micros) string {
	return fmt.Sprintf("$%d.%02d", int64(m)/1_000_000, (int64(m)%1_000_000)/10_000)
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
