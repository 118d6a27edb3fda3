package main

import (
	"embed"
	"strings"
)

// usageFiles holds each command's help text, usage/NAME.txt, as --help
// prints it after "Usage: switchyard ". The texts are operator
// documentation, kept beside the code that parses the flags they describe
// but out of it.
//
//go:embed usage/*.txt
var usageFiles embed.FS

// usageText returns the help text of the command name; TestEveryCommandHasUsage
// proves that each one in commandTable has a file.
func usageText(name string) string {
	b, err := usageFiles.ReadFile("usage/" + name + ".txt")
	if err != nil {
		return name + " [flags]"
	}
	return strings.TrimSuffix(string(b), "\n")
}
