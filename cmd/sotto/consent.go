package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	creceipt "github.com/sottohq/sotto/pkg/consentclient/receipt"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/suite"
	"github.com/sottohq/sotto/pkg/vaultclient"
)

// consentReceiptKeyName is the consent service's receipt key unless
// SOTTO_CONSENT_RECEIPT_KEY names another (as the service reads it).
func consentReceiptKeyName() string {
	if name := os.Getenv("SOTTO_CONSENT_RECEIPT_KEY"); name != "" {
		return name
	}
	return "consent-receipt"
}

// consentReceiptKeys reads the public halves of the consent receipt key,
// every live version, from the key store itself (the local keyring at
// keyring, or Vault Transit with the consent or operator token), so that
// verifying a receipt does not have to believe the consent service about
// which keys sign receipts. `sotto dev up` keeps them in dev.json
// (suite.State.ConsentReceiptKeys).
func consentReceiptKeys(ctx context.Context, keyring string) ([]string, error) {
	token := os.Getenv("SOTTO_CONSENT_VAULT_TOKEN")
	if token == "" {
		token = os.Getenv("SOTTO_VAULT_TOKEN")
	}
	mount := os.Getenv("SOTTO_VAULT_TRANSIT_MOUNT")
	if mount == "" {
		mount = "transit"
	}
	if os.Getenv("SOTTO_VAULT_ADDR") == "" {
		if _, err := os.Stat(keyring); err != nil {
			return nil, fmt.Errorf("no consent keyring at %s: %w", keyring, err)
		}
	}
	km, err := keys.Open(keys.Config{
		Vault:        vaultclient.Config{Addr: os.Getenv("SOTTO_VAULT_ADDR"), Token: token, TokenFile: os.Getenv("SOTTO_VAULT_TOKEN_FILE")},
		TransitMount: mount, KeyringFile: keyring,
	})
	if err != nil {
		return nil, err
	}
	name := consentReceiptKeyName()
	d, err := km.Describe(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []string
	for v := max(d.MinDecryption, 1); v <= d.Latest; v++ {
		pub, err := km.PublicKey(ctx, name, v)
		if err != nil {
			return nil, err
		}
		out = append(out, creceipt.FormatReceiptKey(creceipt.ReceiptKeyID(name, v), pub))
	}
	return out, nil
}

// consentVerifyReceipt checks a consent receipt offline: its EdDSA
// signature against pinned receipt keys (--receipt-key, obtained out of band; by
// default those `sotto dev up` read from the key store into dev.json, or
// the dev keyring itself), and that it is a Kantara v1.1 receipt. With
// --audit it also finds the receipt's anchor in the running suite's audit
// log: the event the receipt names must be consent's
// consent.receipt.issue with resource id sha256:<hash of this receipt>.
func consentVerifyReceipt(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sotto consent verify-receipt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sotto consent verify-receipt [flags] [FILE|-]\n\nFILE holds a receipt: the JWS, or JSON with it as \"jws\" (a Receipt) or \"receipt\".\"jws\" (a GrantConsent answer).")
		fs.PrintDefaults()
	}
	var pinned stringList
	fs.Var(&pinned, "receipt-key", "pinned receipt key, <kid>=<base64url Ed25519 public key>, obtained out of band; repeat for rotated keys (default: from the dev state)")
	sf := addServiceFlags(fs, "audit")
	checkAudit := fs.Bool("audit", false, "also check the receipt's anchor in the audit log of the running suite")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return errors.New("at most one receipt file")
	}
	in := stdin
	if name := fs.Arg(0); name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	raw, err := io.ReadAll(io.LimitReader(in, 1<<20))
	if err != nil {
		return err
	}
	jws, err := receiptJWS(raw)
	if err != nil {
		return err
	}
	if len(pinned) == 0 {
		if pinned, err = devReceiptKeys(ctx, *sf.state); err != nil {
			return err
		}
	}
	keys := creceipt.ReceiptKeys{}
	for _, k := range pinned {
		kid, pub, err := creceipt.ParseReceiptKey(k)
		if err != nil {
			return err
		}
		keys[kid] = pub
	}
	v, err := creceipt.VerifyReceipt(jws, keys)
	if err != nil {
		msg := "receipt does not verify"
		var e *errs.Error
		if errors.As(err, &e) {
			msg = e.Msg
		}
		fmt.Fprintln(stdout, "FAIL:", errs.ReasonOf(err)+":", msg)
		return errors.New("receipt verification failed")
	}
	r := v.Receipt
	fmt.Fprintf(stdout, "OK: receipt %s for subject %s, signed by %s, sha256 %s\n", r.ConsentReceiptID, r.PIIPrincipalID, v.KeyID, v.SHA256)
	fmt.Fprintf(stdout, "  %s, %s, jurisdiction %s, method %s, channel %s\n", r.PIIControllers[0].PIIController, r.CollectionMethod, r.Jurisdiction, r.Sotto.Method, r.Sotto.Channel)
	for _, s := range r.Services {
		for _, p := range s.Purposes {
			fmt.Fprintf(stdout, "  %s: %s (%s, revision %d, record %s)\n", p.PurposeID, p.Decision, p.LegalBasis, p.PurposeRevision, p.RecordID)
		}
	}
	if n := r.Sotto.Notice; n != nil {
		fmt.Fprintf(stdout, "  notice %s version %d (%s), text sha256 %s\n", n.NoticeID, n.Version, n.Language, n.TextSHA256)
	}
	if !*checkAudit {
		fmt.Fprintf(stdout, "  anchor: audit event %s (check it with --audit)\n", r.Sotto.AuditEventID)
		return nil
	}
	conn, err := sf.dial(stderr)
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := auditv1.NewAuditServiceClient(conn).GetEvent(ctx, &auditv1.GetEventRequest{EventId: r.Sotto.AuditEventID})
	if err != nil {
		fmt.Fprintln(stdout, "FAIL: anchor: audit event", r.Sotto.AuditEventID, "not found (", errs.ReasonOf(err), err, "); the relay may not have delivered it yet")
		return errors.New("receipt anchor not found")
	}
	ev := resp.GetEvent()
	if ev.GetAction() != "consent.receipt.issue" || ev.GetResourceId() != "sha256:"+v.SHA256 || !strings.HasSuffix(ev.GetActorWorkload(), "/consent") {
		fmt.Fprintf(stdout, "FAIL: anchor: audit event %s is %s %s by %s, not this receipt's\n", ev.GetEventId(), ev.GetAction(), ev.GetResourceId(), ev.GetActorWorkload())
		return errors.New("receipt anchor does not match")
	}
	fmt.Fprintf(stdout, "  anchor: audit event %s at leaf %d records this receipt's hash (run `sotto audit verify` for the log itself)\n", ev.GetEventId(), ev.GetLeafIndex())
	return nil
}

// receiptJWS finds the JWS in what the user gave: the JWS itself, or JSON
// with "jws" or "receipt"."jws".
func receiptJWS(raw []byte) (string, error) {
	s := strings.TrimSpace(string(raw))
	if !strings.HasPrefix(s, "{") {
		return s, nil
	}
	var doc struct {
		JWS     string `json:"jws"`
		Receipt struct {
			JWS string `json:"jws"`
		} `json:"receipt"`
	}
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return "", fmt.Errorf("receipt file is JSON but not a receipt: %w", err)
	}
	if doc.JWS != "" {
		return doc.JWS, nil
	}
	if doc.Receipt.JWS != "" {
		return doc.Receipt.JWS, nil
	}
	return "", errors.New(`receipt file has neither "jws" nor "receipt"."jws"`)
}

// devReceiptKeys are the receipt keys of a `sotto dev up` suite: those
// dev.json pinned, or else those in its keyring.
func devReceiptKeys(ctx context.Context, state string) ([]string, error) {
	if st, err := suite.ReadState(state); err == nil && len(st.ConsentReceiptKeys) > 0 {
		return st.ConsentReceiptKeys, nil
	}
	ks, err := consentReceiptKeys(ctx, filepath.Join(state, "keys", "consent.json"))
	if err != nil {
		return nil, fmt.Errorf("no receipt key: pass --receipt-key (obtained out of band) or run against a `sotto dev up` state (%w)", err)
	}
	return ks, nil
}
