package main

import "testing"

// TestEveryCommandHasUsage: a command without usage/NAME.txt would print
// only its name as help.
func TestEveryCommandHasUsage(t *testing.T) {
	for _, c := range commandTable {
		if c.name == "version" {
			continue
		}
		if _, err := usageFiles.ReadFile("usage/" + c.name + ".txt"); err != nil {
			t.Errorf("command %s: %v", c.name, err)
		}
	}
}
