package dsr

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/consent/internal/consent"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
	"github.com/sottohq/sotto/services/consent/internal/storage"
)

// Export formats (consentv1.ExportFormat).
const (
	FormatJSON = 1
	FormatCSV  = 2
)

// TokenVault is the participant whose export holds the values other
// participants hold only as tokens.
const TokenVault = "tokenvault"

// File is an assembled export.
type File struct {
	ContentType string
	Data        []byte
}

// exportDoc is the JSON export.
type exportDoc struct {
	RequestID     string          `json:"request_id"`
	Subject       exportSubject   `json:"subject"`
	GeneratedTime string          `json:"generated_time"`
	Participants  []exportPartDoc `json:"participants"`
}

type exportSubject struct {
	Tenant  string `json:"tenant"`
	Subject string `json:"subject"`
}

type exportPartDoc struct {
	Participant string         `json:"participant"`
	Categories  []exportCatDoc `json:"categories"`
	items       []*privacyv1.Item
}

type exportCatDoc struct {
	Category string          `json:"category"`
	Items    []exportItemDoc `json:"items"`
}

type exportItemDoc struct {
	ID     string           `json:"id"`
	Fields []exportFieldDoc `json:"fields"`
}

type exportFieldDoc struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// MaxExportBytes is the largest export Download hands out: it travels to the
// gateway as one gRPC message, and a gRPC client accepts 4 MiB by default.
// A larger one is refused before it is marked downloaded, so nothing is
// lost; streaming the file in chunks would lift the bound.
const MaxExportBytes = 4<<20 - 64<<10

// maxExportItems bounds the items read from one participant: far more than
// MaxExportBytes can carry, so reading stops early instead of holding a
// huge export in memory only to refuse it.
const maxExportItems = 100_000

// exportPageSize keeps each participant's page well under the same 4 MiB
// (a tokenvault value is at most 4 KiB).
const exportPageSize = 200

// Download assembles a completed access or portability request's export
// for its subject, once, before it expires. The file is assembled first and
// marked downloaded (with its audit event) only when it is ready to leave,
// so of two racing downloads one gets the file, and a failure to assemble
// it (a participant down, a file too large) leaves it downloadable.
func (s *Service) Download(ctx context.Context, c consent.Caller, id string, format int) (File, error) {
	if c.Kind != accesstoken.KindCustomer {
		return File{}, errs.E(errs.PermissionDenied, reasons.CustomersOnly, "only the subject downloads their export")
	}
	if s.stepUp(c) {
		s.refused(ctx, c.Subject, reasons.StepUpRequired)
		return File{}, &enduser.StepUpError{RequiredAAL: accesstoken.AAL2, MaxAge: OfficerRecentAuth}
	}
	r, err := s.visible(ctx, c, id)
	if err != nil {
		return File{}, err
	}
	now := s.clock()
	if err := exportState(r, now); err != nil {
		return File{}, err
	}
	f, _, err := s.assemble(ctx, r, now, format)
	if err != nil {
		return File{}, err
	}
	if len(f.Data) > MaxExportBytes {
		return File{}, errs.E(errs.FailedPrecondition, reasons.ExportTooLarge, "the export is larger than one download can carry")
	}
	var won bool
	err = s.d.Store.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if won, err = s.d.Store.MarkDownloaded(ctx, tx, id, now); err != nil || !won {
			return err
		}
		ev := auditclient.New(ctx, ActionExportDownload, auditclient.Success)
		// The event says that the file left, not what it held.
		ev.Subject, ev.ResourceType, ev.ResourceID = r.Subject, resourceDSR, r.ID
		return s.d.Audit.Enqueue(ctx, tx, ev)
	})
	if err != nil {
		return File{}, err
	}
	if !won {
		// Another download won, or the period ended, since the read.
		if r, err = s.d.Store.DSR(ctx, s.d.Store.DB(), id); err != nil {
			return File{}, err
		}
		if err := exportState(r, now); err != nil {
			return File{}, err
		}
		return File{}, errs.E(errs.FailedPrecondition, reasons.ExportAlreadyDownloaded, "the export was downloaded already")
	}
	s.d.Audit.Notify()
	return f, nil
}

// exportState refuses an export that cannot be downloaded now.
func exportState(r storage.DSR, now time.Time) error {
	switch {
	case (r.Type != TypeAccess && r.Type != TypePortability) || r.State != StateCompleted:
		return errs.E(errs.FailedPrecondition, reasons.ExportUnavailable, "only a completed access or portability request has an export")
	case !r.ExportDownload.IsZero():
		return errs.E(errs.FailedPrecondition, reasons.ExportAlreadyDownloaded, "the export was downloaded already")
	case !now.Before(r.ExportExpire):
		return errs.E(errs.FailedPrecondition, reasons.ExportExpired, "the export's download period has ended")
	}
	return nil
}

// assemble reads every participant's export of the subject and fills in
// token fields from tokenvault's items.
func (s *Service) assemble(ctx context.Context, r storage.DSR, now time.Time, format int) (File, int, error) {
	subj := &privacyv1.Subject{Tenant: r.Tenant, Subject: r.Subject}
	parts := make([]exportPartDoc, 0, len(s.d.Names))
	values := map[string]string{}
	for _, name := range s.d.Names {
		p, ok := s.d.Participants[name]
		if !ok {
			return File{}, 0, errs.E(errs.Unavailable, reasons.ExportAssemblyFailed, "a participant cannot be reached")
		}
		var items []*privacyv1.Item
		token := ""
		for range maxPages {
			resp, err := p.Export(ctx, &privacyv1.ExportRequest{Subject: subj, RequestId: r.ID, PageSize: exportPageSize, PageToken: token})
			if err != nil {
				return File{}, 0, errs.Wrap(err, errs.Unavailable, reasons.ExportAssemblyFailed, "a participant's export could not be read")
			}
			items = append(items, resp.GetItems()...)
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
			if len(items) > maxExportItems {
				break
			}
		}
		if token != "" {
			// An export cut short would look complete to the customer.
			return File{}, 0, errs.E(errs.FailedPrecondition, reasons.ExportTooLarge, "a participant holds more than one download can carry")
		}
		if name == TokenVault {
			for _, it := range items {
				for _, f := range it.GetFields() {
					if f.GetName() == "value" {
						values[it.GetId()] = f.GetValue()
					}
				}
			}
		}
		parts = append(parts, exportPartDoc{Participant: name, items: items})
	}
	n := 0
	for i := range parts {
		byCat := map[string]int{}
		for _, it := range parts[i].items {
			n++
			ci, ok := byCat[it.GetCategory()]
			if !ok {
				ci = len(parts[i].Categories)
				byCat[it.GetCategory()] = ci
				parts[i].Categories = append(parts[i].Categories, exportCatDoc{Category: it.GetCategory(), Items: []exportItemDoc{}})
			}
			item := exportItemDoc{ID: it.GetId(), Fields: []exportFieldDoc{}}
			for _, f := range it.GetFields() {
				v := f.GetValue()
				if f.GetToken() != "" {
					v = values[f.GetToken()]
				}
				item.Fields = append(item.Fields, exportFieldDoc{Name: f.GetName(), Value: v})
			}
			parts[i].Categories[ci].Items = append(parts[i].Categories[ci].Items, item)
		}
		if parts[i].Categories == nil {
			parts[i].Categories = []exportCatDoc{}
		}
	}
	doc := exportDoc{RequestID: r.ID, Subject: exportSubject{Tenant: r.Tenant, Subject: r.Subject},
		GeneratedTime: now.Format(time.RFC3339Nano), Participants: parts}
	if format == FormatCSV {
		b, err := csvOf(doc)
		return File{ContentType: "text/csv; charset=utf-8", Data: b}, n, err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return File{}, 0, errs.Wrap(err, errs.Internal, reasons.ExportAssemblyFailed, "the export does not encode")
	}
	return File{ContentType: "application/json", Data: b}, n, nil
}

// csvOf writes the export as RFC 4180 CSV (participant, category, item_id,
// field, value), each cell defused against formula injection.
func csvOf(doc exportDoc) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	// Rows end in LF: with UseCRLF, encoding/csv also rewrites line breaks
	// inside values (LF becomes CRLF, a lone CR is dropped), and a portable
	// copy must hold the values as they are.
	w.UseCRLF = false
	rows := [][]string{{"participant", "category", "item_id", "field", "value"}}
	for _, p := range doc.Participants {
		for _, c := range p.Categories {
			for _, it := range c.Items {
				if len(it.Fields) == 0 {
					rows = append(rows, []string{p.Participant, c.Category, it.ID, "", ""})
				}
				for _, f := range it.Fields {
					rows = append(rows, []string{p.Participant, c.Category, it.ID, f.Name, f.Value})
				}
			}
		}
	}
	for i, row := range rows {
		if i > 0 {
			for j := range row {
				row[j] = DefuseCell(row[j])
			}
		}
		if err := w.Write(row); err != nil {
			return nil, errs.Wrap(err, errs.Internal, reasons.ExportAssemblyFailed, "the export does not encode")
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, errs.Wrap(err, errs.Internal, reasons.ExportAssemblyFailed, "the export does not encode")
	}
	return buf.Bytes(), nil
}

// DefuseCell prefixes with a quote a cell a spreadsheet would read as a
// formula (OWASP CSV injection: = + - @, tab, carriage return or line
// feed first, or one of the four after leading blanks).
func DefuseCell(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '|', '\t', '\r', '\n', '\v', 0:
		return "'" + v
	}
	// Full-width forms some spreadsheets fold to their ASCII twins.
	if r, _ := utf8.DecodeRuneInString(v); strings.ContainsRune("＝＋－＠", r) {
		return "'" + v
	}
	// A spreadsheet trims leading blanks before it reads a formula.
	if t := strings.TrimLeft(v, " \u00a0"); t != v && t != "" && strings.ContainsRune("=+-@", rune(t[0])) {
		return "'" + v
	}
	return v
}
