package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"google.golang.org/grpc"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/suite"
)

// serviceFlags are how a CLI command finds a service and proves who it is:
// by default the address and the CLI's workload certificate (sotto-cli) of a
// `sotto dev up` suite, from its state directory.
type serviceFlags struct {
	service string
	state   *string
	addr    *string
	files   mtls.Files
}

func addServiceFlags(fs *flag.FlagSet, service string) *serviceFlags {
	f := &serviceFlags{service: service}
	f.state = fs.String("state", ".sotto", "dev state directory (address and CLI identity of a `sotto dev up` suite)")
	f.addr = fs.String("addr", "", service+" service address (default: from the dev state)")
	fs.StringVar(&f.files.Cert, "cert", "", "CLI workload certificate (default: from the dev state)")
	fs.StringVar(&f.files.Key, "key", "", "CLI workload key")
	fs.StringVar(&f.files.Bundle, "bundle", "", "trust bundle")
	return f
}

// dial connects to the service over mTLS as the CLI workload, checking that
// the server is that service.
func (f *serviceFlags) dial(stderr io.Writer) (*grpc.ClientConn, error) {
	addr, files := *f.addr, f.files
	if addr == "" || files.Cert == "" {
		st, err := suite.ReadState(*f.state)
		if err != nil {
			return nil, err
		}
		if addr == "" {
			if addr, err = st.Addr(f.service); err != nil {
				return nil, err
			}
		}
		if files.Cert == "" {
			files = st.CLI
		}
	}
	src, err := mtls.NewFileSource(files, logging.New(stderr, "sotto-cli", 8))
	if err != nil {
		return nil, err
	}
	return dial.Service(addr, src, f.service, nil)
}

// tokenvaultRotateKeys calls TokenVaultService.RotateKeys: with --kek it
// rotates the key-encryption key (the background job then rewraps every data
// key), with --subject it gives that subject a new data key (its values are
// re-encrypted in the background, then the old key is destroyed), and with
// neither it reports the rotation backlog. The RPC is audited and allowed to
// the CLI workload only.
func tokenvaultRotateKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sotto tokenvault rotate-keys", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := addServiceFlags(fs, "tokenvault")
	kek := fs.Bool("kek", false, "rotate the key-encryption key now, starting a KEK epoch early (tokenvault rotates it on its own schedule, SOTTO_TOKENVAULT_KEK_EPOCH, and retires older versions once every key is rewrapped)")
	subject := fs.String("subject", "", "rotate this subject's data key")
	tenant := fs.String("tenant", "", `tenant of the subject (default "default")`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case *kek && *subject != "":
		return errors.New("rotate either the key-encryption key (--kek) or a subject's data key (--subject), not both")
	case *tenant != "" && *subject == "":
		return errors.New("--tenant names the tenant of --subject")
	}
	conn, err := sf.dial(stderr)
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := tokenvaultv1.NewTokenVaultServiceClient(conn).RotateKeys(ctx, &tokenvaultv1.RotateKeysRequest{
		Rotate: *kek, Tenant: *tenant, Subject: *subject,
	})
	if err != nil {
		return fmt.Errorf("rotate keys: %w", err)
	}
	switch {
	case *kek:
		fmt.Fprintf(stdout, "rotated the key-encryption key to version %d\n", resp.GetKekVersion())
	case *subject != "":
		fmt.Fprintln(stdout, "rotated the subject's data key")
	}
	fmt.Fprintf(stdout, "key-encryption key version: %d\ndata keys to rewrap: %d\nvalues to re-encrypt: %d\n",
		resp.GetKekVersion(), resp.GetPendingRewrap(), resp.GetPendingReencrypt())
	return nil
}
