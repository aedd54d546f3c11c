package service

import (
	"errors"
	"time"

	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/store"
)

// JobsConfig is the job runner's settings, read from SOTTO_JOBS_* variables.
type JobsConfig struct {
	// Concurrency is how many job handlers run at once in this replica.
	Concurrency int `env:"JOBS_CONCURRENCY" envDefault:"4"`
	// PollInterval is how often the runner looks for due jobs.
	PollInterval time.Duration `env:"JOBS_POLL_INTERVAL" envDefault:"1s"`
	// Lease is how long a dead replica's jobs wait before another retakes them.
	Lease time.Duration `env:"JOBS_LEASE" envDefault:"30s"`
	// ShutdownGrace is how long running handlers may finish at shutdown
	// before their context is canceled.
	ShutdownGrace time.Duration `env:"JOBS_SHUTDOWN_GRACE" envDefault:"10s"`
}

// jobsTask is the name of the runner's background task.
const jobsTask = "jobs"

// Jobs returns the runner of durable background jobs on db (pkg/jobs; the
// platform schema holds its table), with the service's logger and metrics,
// and runs it as a background task once the service serves. Register the
// service's kinds on it before register returns. Call it once, after
// AuditOutbox if the jobs write audit events: tasks stop last started
// first, so the relay still runs while the jobs finish.
func (s *Service) Jobs(db *store.DB) (*jobs.Runner, error) {
	for _, t := range s.tasks {
		if t.name == jobsTask {
			return nil, errors.New("service: Jobs called twice")
		}
	}
	var cfg JobsConfig
	if err := s.Config(&cfg); err != nil {
		return nil, err
	}
	r, err := jobs.New(db, jobs.Config{
		Concurrency:   cfg.Concurrency,
		PollInterval:  cfg.PollInterval,
		Lease:         cfg.Lease,
		ShutdownGrace: cfg.ShutdownGrace,
		Logger:        s.logger,
		Meter:         s.tel.Meter,
	})
	if err != nil {
		return nil, err
	}
	s.Go(jobsTask, r.Run)
	return r, nil
}
