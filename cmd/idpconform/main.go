// Command idpconform tells whether an OAuth 2.0 / OpenID Connect token
// provider behaves as its clients rely on. See `idpconform --help`.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the command line and returns the process exit code:
// 0 every MUST check passed, 1 a check failed, 2 bad usage or configuration.
func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "idpconform:", ee.err)
		}
		return ee.code
	}
	// Cobra's own errors: unknown command or flag, bad flag value.
	fmt.Fprintln(os.Stderr, "idpconform:", err)
	fmt.Fprintln(os.Stderr, "Run 'idpconform --help' for usage.")
	return exitUsage
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// exitError carries an exit code through cobra. err may be nil when the
// command has already printed what the user needs (a failed run's summary).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func configError(err error) error { return &exitError{code: exitUsage, err: err} }

func failed(err error) error { return &exitError{code: exitFailed, err: err} }
