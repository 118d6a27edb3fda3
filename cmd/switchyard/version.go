package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/version"
)

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("version", "Prints the version, commit and build date of this binary.", stderr)
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	info := version.Get()
	if *asJSON {
		return json.NewEncoder(stdout).Encode(info)
	}
	_, err := fmt.Fprintln(stdout, info)
	return err
}
