package service

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// Profiling: SOTTO_PPROF_ADDR serves net/http/pprof on a loopback address
// of its own, for diagnosing a running process (a soak's memory, say). It
// is off unless set, and never on the admin port, which a cluster's
// scraper reaches: a profile shows the process's memory and stacks, and its
// handlers can be made to run for a long time. "127.0.0.1:0" picks a free
// port, which the service logs (at warn, so it shows at every log level).

// checkPprofAddr refuses an address that is not loopback.
func checkPprofAddr(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("configuration: SOTTO_PPROF_ADDR: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("configuration: SOTTO_PPROF_ADDR must be a loopback address (127.0.0.1:port, [::1]:port or localhost:port)")
	}
	return nil
}

// servePprof starts the profiling listener when one is configured and
// returns what stops it.
func (s *Service) servePprof() (stop func() error, err error) {
	if s.cfg.PprofAddr == "" {
		return func() error { return nil }, nil
	}
	lis, err := net.Listen("tcp", s.cfg.PprofAddr)
	if err != nil {
		return nil, fmt.Errorf("pprof listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(lis)
	s.setAddr("pprof", lis.Addr().String())
	s.logger.Warn("profiling endpoint open", "component", "pprof", "addr", lis.Addr().String())
	return srv.Close, nil
}
