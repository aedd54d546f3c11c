package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
)

// crmsyncStates are the --state values of `sotto crmsync list`.
var crmsyncStates = map[string]crmsyncv1.DeliveryState{
	"":          crmsyncv1.DeliveryState_DELIVERY_STATE_UNSPECIFIED,
	"queued":    crmsyncv1.DeliveryState_DELIVERY_STATE_QUEUED,
	"delivered": crmsyncv1.DeliveryState_DELIVERY_STATE_DELIVERED,
	"dead":      crmsyncv1.DeliveryState_DELIVERY_STATE_DEAD_LETTERED,
	"cancelled": crmsyncv1.DeliveryState_DELIVERY_STATE_CANCELLED,
	"discarded": crmsyncv1.DeliveryState_DELIVERY_STATE_DISCARDED,
}

func stateName(s crmsyncv1.DeliveryState) string {
	for name, v := range crmsyncStates {
		if v == s && name != "" {
			return name
		}
	}
	return "unknown"
}

// crmsyncCommand runs `sotto crmsync list|replay|discard`: the operator's
// view of deliveries to the shops' CRMs (ADR 0015). The calls are allowed to
// the CLI workload only, and never show a payload.
func crmsyncCommand(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sotto crmsync "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := addServiceFlags(fs, "crmsync")
	var state, tenant *string
	var pageSize *int
	if sub == "list" {
		state = fs.String("status", "", "only deliveries in this state: queued, delivered, dead, cancelled, discarded")
		tenant = fs.String("tenant", "", "only this shop's deliveries")
		pageSize = fs.Int("limit", 50, "deliveries to list (newest first; at most 500)")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var id string
	switch {
	case sub == "list" && fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	case sub != "list" && fs.NArg() != 1:
		return fmt.Errorf("sotto crmsync %s takes one delivery id", sub)
	case sub != "list":
		id = fs.Arg(0)
	}
	var st crmsyncv1.DeliveryState
	if sub == "list" {
		var ok bool
		if st, ok = crmsyncStates[*state]; !ok {
			return fmt.Errorf("--status must be one of queued, delivered, dead, cancelled, discarded")
		}
		if *pageSize < 1 || *pageSize > 500 {
			return fmt.Errorf("--limit must be 1 to 500")
		}
	}
	conn, err := sf.dial(stderr)
	if err != nil {
		return err
	}
	defer conn.Close()
	client := crmsyncv1.NewCrmSyncServiceClient(conn)
	switch sub {
	case "replay":
		resp, err := client.ReplayDelivery(ctx, &crmsyncv1.ReplayDeliveryRequest{DeliveryId: id})
		if err != nil {
			return rpcErr("replay", err)
		}
		fmt.Fprintf(stdout, "%s queued again\n", resp.GetDelivery().GetDeliveryId())
		return nil
	case "discard":
		resp, err := client.DiscardDelivery(ctx, &crmsyncv1.DiscardDeliveryRequest{DeliveryId: id})
		if err != nil {
			return rpcErr("discard", err)
		}
		fmt.Fprintf(stdout, "%s discarded\n", resp.GetDelivery().GetDeliveryId())
		return nil
	}
	resp, err := client.ListDeliveries(ctx, &crmsyncv1.ListDeliveriesRequest{State: st, Tenant: *tenant, PageSize: int32(*pageSize)})
	if err != nil {
		return rpcErr("list", err)
	}
	if len(resp.GetDeliveries()) == 0 {
		fmt.Fprintln(stdout, "no deliveries")
		return nil
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "DELIVERY\tTENANT\tCRM\tSTATE\tATTEMPTS\tREASON\tUPDATED")
	for _, d := range resp.GetDeliveries() {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.GetDeliveryId(), d.GetTenant(), d.GetConnector(), stateName(d.GetState()),
			d.GetAttempts(), orDash(d.GetReason()), d.GetUpdateTime().AsTime().UTC().Format(time.RFC3339))
	}
	if resp.GetNextPageToken() != "" {
		fmt.Fprintln(w, "(more: raise --limit or narrow with --status and --tenant)")
	}
	return w.Flush()
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// rpcErr says what the service answered, with its machine-readable reason
// (DELIVERY_NOT_FOUND, DELIVERY_NOT_REPLAYABLE, ...), for the operator.
func rpcErr(op string, err error) error {
	st := status.Convert(err)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() != "" {
			return fmt.Errorf("%s: %s: %s (%s)", op, st.Code(), st.Message(), info.GetReason())
		}
	}
	return fmt.Errorf("%s: %s: %s", op, st.Code(), st.Message())
}
