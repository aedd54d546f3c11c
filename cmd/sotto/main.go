// Command sotto is the operator CLI and local launcher:
//
//	sotto dev up        run the whole suite locally (mTLS, SQLite, local keyring)
//	sotto dev down      stop it
//	sotto audit verify  verify the audit log: signatures, consistency, every entry
//	sotto tokenvault rotate-keys  rotate tokenvault's keys, or report the rotation backlog
//	sotto pii detect|redact  find or pseudonymise PII in JSON lines
//	sotto consent verify-receipt  verify a consent receipt offline
//	sotto crmsync list|replay|discard  operate the deliveries to the shops' CRMs
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sottohq/sotto/pkg/errs"
)

const usage = `sotto: Sotto operator CLI

Usage:
  sotto dev up [flags]         run every service locally until Ctrl-C
  sotto dev down [--state DIR] stop the suite a dev up runs from DIR, and wait
  sotto audit verify [flags]   verify the audit log end to end
  sotto tokenvault rotate-keys [flags]
                               rotate the KEK (--kek) or a subject's data key
                               (--subject), or report the rotation backlog
  sotto pii detect [flags]     read JSON lines {"id","text","lang"} on stdin, write
                               the PII spans of each
  sotto pii redact [flags]     the same, writing pseudonymised text and its map
  sotto consent verify-receipt [flags] [FILE]
                               verify a consent receipt's signature offline
                               against pinned keys (--audit: and its anchor)
  sotto crmsync list [flags]   list deliveries to the shops' CRMs (--status dead: dead letters)
  sotto crmsync replay ID      queue a dead-lettered delivery again
  sotto crmsync discard ID     give up a queued or dead-lettered delivery
  sotto help                   show this help

Run "sotto <command> -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "sotto:", errs.Detailed(err))
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch cmd := args[0]; {
	case cmd == "dev" && len(args) > 1 && args[1] == "up":
		return devUp(ctx, args[2:], stdout, stderr)
	case cmd == "dev" && len(args) > 1 && args[1] == "down":
		return devDown(ctx, args[2:], stdout, stderr)
	case cmd == "audit" && len(args) > 1 && args[1] == "verify":
		return auditVerify(ctx, args[2:], stdout, stderr)
	case cmd == "tokenvault" && len(args) > 1 && args[1] == "rotate-keys":
		return tokenvaultRotateKeys(ctx, args[2:], stdout, stderr)
	case cmd == "pii" && len(args) > 1 && (args[1] == "detect" || args[1] == "redact"):
		return piiCommand(ctx, args[1], args[2:], os.Stdin, stdout, stderr)
	case cmd == "consent" && len(args) > 1 && args[1] == "verify-receipt":
		return consentVerifyReceipt(ctx, args[2:], os.Stdin, stdout, stderr)
	case cmd == "crmsync" && len(args) > 1 && (args[1] == "list" || args[1] == "replay" || args[1] == "discard"):
		return crmsyncCommand(ctx, args[1], args[2:], stdout, stderr)
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
