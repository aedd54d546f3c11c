package connector

import "context"

// RecordIDer is a Batcher that also says each record's id in the CRM
// (HubSpot's contact id, Salesforce's record Id): what an inbound change
// names, bound to the subject when the delivery succeeds (ADR 0015,
// "Inbound").
type RecordIDer interface {
	// UpsertEachIDs is UpsertEach; ids[i] is records[i]'s id in the CRM
	// when the CRM applied it and said which ("" otherwise).
	UpsertEachIDs(ctx context.Context, records []Record) (each []error, ids []string, err error)
}

// UpsertIDs is UpsertEach with the CRM's record ids, all "" for a
// connector that does not say them.
func UpsertIDs(ctx context.Context, c Connector, records []Record) ([]error, []string, error) {
	if b, ok := c.(RecordIDer); ok {
		return b.UpsertEachIDs(ctx, records)
	}
	each, err := UpsertEach(ctx, c, records)
	if err != nil {
		return nil, nil, err
	}
	return each, make([]string, len(records)), nil
}
