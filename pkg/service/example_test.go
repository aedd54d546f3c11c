package service_test

import (
	"context"
	"database/sql"
	"testing/fstest"

	"google.golang.org/grpc"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/service"
)

// The example service is what a new service's cmd/<name>/main.go looks like:
// main is `service.Main("notes", registerNotes)`, and registerNotes (with
// its config type) is the rest of the file, under 40 lines. It has its own
// setting, table and gRPC API, records what it does through the audit
// outbox, and runs one background task.
type notesConfig struct {
	Greeting string `env:"NOTES_GREETING" envDefault:"hello"`
}

func registerNotes(ctx context.Context, s *service.Service) error {
	var cfg notesConfig
	if err := s.Config(&cfg); err != nil {
		return err
	}
	db, err := s.DB(ctx, notesMigrations)
	if err != nil {
		return err
	}
	outbox, err := s.AuditOutbox(db)
	if err != nil {
		return err
	}
	gs, err := s.GRPC(authz.Policy{notesGetMethod: {"gateway"}})
	if err != nil {
		return err
	}
	gs.RegisterService(&notesServiceDesc, &notesServer{db: db.DB, outbox: outbox, greeting: cfg.Greeting})
	s.Go("janitor", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	return nil
}

// What would be the service's migrations/ directory and generated code.
var notesMigrations = fstest.MapFS{
	"sqlite/0001_notes.sql":   {Data: []byte("-- +goose Up\nCREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL);\n")},
	"postgres/0001_notes.sql": {Data: []byte("-- +goose Up\nCREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL);\n")},
}

// The notes API borrows audit's GetEvent messages, so the example needs no
// generated code of its own: Get stores a note named by event_id, records
// it through the outbox in the same transaction, and answers with the
// greeting in place of a subject hash.
const notesGetMethod = "/sotto.notes.v1.NotesService/Get"

var notesServiceDesc = grpc.ServiceDesc{
	ServiceName: "sotto.notes.v1.NotesService",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{MethodName: "Get", Handler: func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
		req := new(auditv1.GetEventRequest)
		if err := dec(req); err != nil {
			return nil, err
		}
		handler := func(ctx context.Context, req any) (any, error) {
			return srv.(*notesServer).get(ctx, req.(*auditv1.GetEventRequest))
		}
		if ic == nil {
			return handler(ctx, req)
		}
		return ic(ctx, req, &grpc.UnaryServerInfo{Server: srv, FullMethod: notesGetMethod}, handler)
	}}},
}

type notesServer struct {
	db       *sql.DB
	outbox   *auditclient.Outbox
	greeting string
}

func (n *notesServer) get(ctx context.Context, req *auditv1.GetEventRequest) (*auditv1.GetEventResponse, error) {
	tx, err := n.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO notes (id, body) VALUES ($1, $2)`, req.GetEventId(), n.greeting); err != nil {
		return nil, err
	}
	if err := n.outbox.Enqueue(ctx, tx, auditclient.New(ctx, "notes.create", auditclient.Success)); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &auditv1.GetEventResponse{Event: &auditv1.Event{EventId: req.GetEventId(), ActorSubjectHash: n.greeting}}, nil
}
