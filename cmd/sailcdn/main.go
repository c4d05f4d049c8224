// Command sailcdn is a self-hosted, wire-compatible Amazon Lightsail CDN: the Lightsail distribution API
// and a caching edge in one binary.
//
//	sailcdn serve --dev                 # API on 127.0.0.1:4580, edge on 127.0.0.1:8080, SQLite in ./sailcdn-data
//	sailcdn serve --credentials FILE    # production: keys from an AWS shared-credentials file
//	sailcdn serve --role edge ...       # a node of a fleet: viewers only (see README, "Roles and health")
//
// Every flag can also be given as an environment variable SAILCDN_<FLAG> (upper case, '-' as '_').
// This package only maps flags into an app.Config; internal/app assembles and runs the node.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		printHelp(os.Stderr)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "usage":
		err = usageCmd(os.Args[2:], os.Stdout)
	case "ca":
		err = caCmd(os.Args[2:], os.Stdout)
	case "help", "-h", "--help":
		printHelp(os.Stdout)
		return
	default:
		fmt.Fprintf(os.Stderr, "sailcdn: unknown command %q\n", os.Args[1])
		printHelp(os.Stderr)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sailcdn:", err)
		os.Exit(1)
	}
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `usage: sailcdn <command> [flags]

commands:
  serve    run a node: the Lightsail API and the edge, or one of them (sailcdn serve -h for flags)
  usage    print each distribution's billing cycle: transfer used against quota, overage, cost so far
  ca export  print the root certificate of sailcdn's CA (PEM), for viewers' trust stores
`)
}
