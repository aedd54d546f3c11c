package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/sottohq/sotto/pkg/logging"
)

// serve binds every port, starts the background tasks and the APIs, and
// runs until ctx is done or something fails; then it stops everything in
// the order the package documentation gives.
func (s *Service) serve(ctx context.Context) error {
	if err := s.listen(); err != nil {
		return err
	}
	stopPprof, err := s.servePprof()
	if err != nil {
		return err
	}
	defer stopPprof()
	// stopServing ends the APIs: on ctx, or when a task or server fails.
	serveCtx, stopServing := context.WithCancelCause(ctx)
	defer stopServing(nil)

	// Tasks get contexts of their own, not derived from ctx: they outlive
	// the APIs' drain so that in-flight requests can still use them.
	running := make([]*runningTask, len(s.tasks))
	for i, t := range s.tasks {
		running[i] = s.startTask(t, stopServing)
	}

	apiDone := make(chan error, 1+len(s.https))
	if s.grpcSrv != nil {
		go func() { apiDone <- s.grpcSrv.Serve(serveCtx) }()
	}
	for _, h := range s.https {
		go func() { apiDone <- s.serveHTTP(serveCtx, h) }()
	}
	admin := &http.Server{Handler: s.admin.Handler(), ReadHeaderTimeout: 5 * time.Second}
	adminLis := s.adminLis
	go admin.Serve(adminLis)
	if s.renew != nil {
		go s.renew(serveCtx)
	}
	s.logger.Info("serving", "component", "admin", "addr", adminLis.Addr().String())

	// Wait for every API to have drained (each returns once serveCtx ends
	// and its in-flight requests finished, or on a failure of its own).
	var errsOut []error
	for range len(s.https) + boolToInt(s.grpcSrv != nil) {
		if err := <-apiDone; err != nil {
			errsOut = append(errsOut, err)
			stopServing(err)
		}
	}
	s.logger.Info("shutting down")
	for i := len(running) - 1; i >= 0; i-- {
		if err := running[i].stop(); err != nil {
			s.logger.Error("background task failed", "task", running[i].name, logging.Err(err))
			errsOut = append(errsOut, fmt.Errorf("%s: %w", running[i].name, err))
		}
	}
	// The admin port serves probes and scrapes, which may be cut: Close, not
	// Shutdown, which would wait up to 5 s for a connection a client opened
	// but never used (net/http counts it as active until then).
	errsOut = append(errsOut, admin.Close())
	return errors.Join(errsOut...)
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

type runningTask struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

func (s *Service) startTask(t task, fail context.CancelCauseFunc) *runningTask {
	ctx, cancel := context.WithCancel(context.Background())
	rt := &runningTask{name: t.name, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(rt.done)
		err := t.run(ctx)
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			err = nil // stopped as asked
		}
		rt.err = err
		if err != nil && ctx.Err() == nil {
			// Failed on its own: the service cannot go on without it. The
			// error itself is reported when the task is stopped.
			fail(err)
		}
	}()
	return rt
}

// stop cancels the task and waits for it. A task that ignores its context
// holds up shutdown: that is a bug in the task, and the orchestrator's
// SIGKILL after its grace period is the backstop.
func (rt *runningTask) stop() error {
	rt.cancel()
	<-rt.done
	return rt.err
}

func (s *Service) listen() error {
	if s.grpcSrv != nil {
		if err := s.grpcSrv.Listen(); err != nil {
			return err
		}
		s.setAddr("grpc", s.grpcSrv.GRPCAddr())
	}
	for _, h := range s.https {
		lis, err := net.Listen("tcp", h.addr)
		if err != nil {
			return fmt.Errorf("listen %s: %w", h.name, err)
		}
		h.lis = lis
		s.setAddr(h.name, lis.Addr().String())
	}
	lis, err := net.Listen("tcp", s.cfg.Server.AdminAddr)
	if err != nil {
		return fmt.Errorf("listen admin: %w", err)
	}
	s.adminLis = lis
	s.setAddr("admin", lis.Addr().String())
	return nil
}

func (s *Service) serveHTTP(ctx context.Context, h *httpAPI) error {
	s.logger.Info("serving", "component", h.name, "addr", h.lis.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- h.srv.Serve(h.lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.Server.ShutdownTimeout)
	defer cancel()
	err := h.srv.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		// As with gRPC: what has not finished by the timeout is cut. That
		// includes connections a client opened and never used, which
		// net/http waits for.
		s.logger.Warn("drain timed out; cutting the remaining connections", "component", h.name)
		err = h.srv.Close()
	}
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}

// close releases what the service opened, after every task has stopped:
// connections to other services, the database, then telemetry (last, so the
// shutdown's own spans and metrics are exported).
func (s *Service) close() {
	for name, c := range s.conns {
		if err := c.Close(); err != nil {
			s.logger.Warn("closing connection", "service", name, logging.Err(err))
		}
	}
	if s.db != nil {
		if err := s.db.Close(); err != nil {
			s.logger.Warn("closing database", logging.Err(err))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.tel.Shutdown(ctx); err != nil {
		s.logger.Warn("telemetry shutdown", logging.Err(err))
	}
}
