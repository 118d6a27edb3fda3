package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// ConfirmForce confirms that command may force removing name although its
// gate failed: confirm (the --confirm flag) must be name; without it, the
// user types name at a prompt on stdin, which must be a terminal. Every
// refusal is a usage error.
func ConfirmForce(stdin io.Reader, stdout io.Writer, command, name, confirm string) error {
	if confirm != "" {
		if confirm != name {
			return Usagef("%s: --confirm=%s does not match the consumer %s", command, confirm, name)
		}
		return nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return Usagef("%s: forcing needs confirmation: pass --confirm=%s (stdin is not a terminal)", command, name)
	}
	fmt.Fprintf(stdout, "The gate failed. Type the consumer's name (%s) to remove it anyway: ", name)
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read confirmation: %w", err)
	}
	if strings.TrimSpace(line) != name {
		return Usagef("%s: confirmation %q does not match %s; nothing removed", command, strings.TrimSpace(line), name)
	}
	return nil
}
