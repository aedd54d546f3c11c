package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"time"

	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/suite"
)

// launcher starts the suite's services in order. Every address is picked
// before anything starts, because a service may dial one that starts after
// it (follows, end_users); a picked port is free when picked, but something
// else (another suite starting at the same time) can bind it before its
// service does. The service then exits with "address already in use", and
// the launcher gives it new addresses and starts it again.
type launcher struct {
	sup      *supervisor
	st       *suite.State
	dir, bin string                // state and binaries' directories
	certs    map[string]mtls.Files // each service's workload certificate
	// addrs picks a service's addresses: free ones in dev up, a taken one
	// in the test of the recovery.
	addrs func(suite.Service) (suite.Endpoints, error)
}

// bindAttempts bounds the starts of one service whose address is taken: a
// port loopback.FreeAddr picked is taken twice in a row only by bad luck, while a
// fixed --http-addr that another program holds stays taken.
const bindAttempts = 3

// assign picks svc's addresses and records them in the suite's state.
func (l *launcher) assign(svc suite.Service) error {
	ep, err := l.addrs(svc)
	if err != nil {
		return err
	}
	l.st.Services[svc.Name] = ep
	if svc.API == suite.HTTP {
		l.st.GatewayURL = ep.HTTP
	}
	return nil
}

// proc is svc's process as the suite's state has it now.
func (l *launcher) proc(svc suite.Service) *devProc {
	return &devProc{
		name:  svc.Name,
		bin:   filepath.Join(l.bin, svc.Name),
		env:   devEnv(l.dir, *l.st, svc, l.certs[svc.Name]),
		ready: "http://" + l.st.Services[svc.Name].Admin + "/readyz",
		log:   filepath.Join(l.dir, "logs", svc.Name+".log"),
	}
}

// startAll starts order's services one by one, each once ready, and returns
// their processes (in order).
func (l *launcher) startAll(ctx context.Context, order []suite.Service) ([]*devProc, error) {
	procs := make([]*devProc, 0, len(order))
	for i, svc := range order {
		p := l.proc(svc)
		for attempt := 1; ; attempt++ {
			err := l.sup.start(ctx, p)
			if err == nil {
				break
			}
			taken := p.addrTaken()
			if taken != "" {
				err = fmt.Errorf("%w: %s", err, taken)
			}
			if taken == "" || attempt == bindAttempts {
				return nil, fmt.Errorf("%s did not become ready (see %s): %w", p.name, p.log, err)
			}
			l.sup.say("%s could not listen (%s); starting it on new addresses", p.name, taken)
			if err := l.rebind(ctx, svc, order[:i], procs); err != nil {
				return nil, err
			}
			fresh := l.proc(svc)
			p.mu.Lock()
			p.env = fresh.env
			p.mu.Unlock()
			p.ready = fresh.ready // read only by start and keepAlive, which follows it
		}
		procs = append(procs, p)
	}
	return procs, nil
}

// rebind gives svc new addresses, then restarts each of the running
// services (started, with their processes procs) that was given one of the
// old ones, so that nothing dials the port that someone else now holds.
func (l *launcher) rebind(ctx context.Context, svc suite.Service, started []suite.Service, procs []*devProc) error {
	if err := l.assign(svc); err != nil {
		return err
	}
	for i, q := range procs {
		env := l.proc(started[i]).env
		if slices.Equal(env, q.environ()) {
			continue
		}
		l.sup.say("restarting %s with %s's new address", q.name, svc.Name)
		if err := l.sup.restart(ctx, q, env); err != nil {
			return fmt.Errorf("%s did not become ready again (see %s): %w", q.name, q.log, err)
		}
	}
	return nil
}

// endpoints picks svc's addresses with pick: the admin port, and the gRPC
// port or the gateway's HTTP and gRPC ports. httpAddr is the gateway's
// fixed address, or "auto" for a picked one; port 0 ("127.0.0.1:0") is
// picked too, on its host, because the address is written into dev.json,
// the banner and identity's WebAuthn origin before the gateway binds it,
// and a kernel-chosen port would be known to the gateway alone.
func endpoints(svc suite.Service, httpAddr string, pick func() (string, error)) (suite.Endpoints, error) {
	var ep suite.Endpoints
	var err error
	if ep.Admin, err = pick(); err != nil {
		return ep, err
	}
	switch svc.API {
	case suite.GRPC:
		ep.GRPC, err = pick()
	case suite.HTTP:
		if httpAddr, err = gatewayAddr(httpAddr, pick); err != nil {
			return ep, err
		}
		ep.HTTP = "http://" + httpAddr
		// The edge's gRPC listener for integrators (TLS with a
		// certificate it makes for loopback; ADR 0011).
		ep.GRPC, err = pick()
	}
	return ep, err
}

// gatewayAddr resolves --http-addr to the address the gateway will bind.
func gatewayAddr(httpAddr string, pick func() (string, error)) (string, error) {
	if httpAddr == "auto" {
		return pick()
	}
	host, port, err := net.SplitHostPort(httpAddr)
	if err != nil {
		return "", fmt.Errorf("--http-addr %q: want host:port or \"auto\": %w", httpAddr, err)
	}
	if port != "0" {
		return httpAddr, nil
	}
	picked, err := pick()
	if err != nil {
		return "", err
	}
	_, port, err = net.SplitHostPort(picked)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, port), nil
}

// stopGrace is how long a process gets to stop after SIGTERM before SIGKILL.
const stopGrace = 20 * time.Second
