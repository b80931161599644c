package main

import (
	"time"

	"github.com/riverqueue/river"
)

// Capacity is how much work one serve process does at once and the database
// connections it needs for that, built once from the environment.
//
// Why the pool cannot starve: no job or request holds a connection while it
// waits for another one or for anything slow (an LLM, an embedder, a
// platform, SMTP) — transactions are short, turns hold a lease on the
// conversation row instead of a connection (conversations.ClaimTurn). So any
// pool larger than its permanently held connections makes progress; its size
// only sets how many queries run in parallel. TestTurnsOnAMinimalPool runs
// many conversations at once on such a pool to keep that true.
type Capacity struct {
	// Workers is how many jobs of each River queue run at once. A turn
	// waiting out its debounce or an LLM holds a worker, not a connection, so
	// turns get many workers.
	Workers map[string]int
	// DBMaxConns is the pool size: ATENDE_DB_MAX_CONNS, or PoolSize().
	DBMaxConns int32
	// Debounce is how long a turn waits after the customer's last message.
	Debounce time.Duration
	// RescueAfter is when River takes a job still "running" as lost with a
	// dead process and runs it again; longer than any job's timeout.
	RescueAfter time.Duration
}

// Connections held for good by one process: River's LISTEN connection and the
// hub's (inbox, webchat and SSE wake-ups).
const heldConnections = 2

// riverInternals are the connections River's own services (leader election,
// fetching, completing, maintenance) use at once.
const riverInternals = 2

// httpConnections are kept for requests, so the API answers while every
// worker is busy.
const httpConnections = 8

// jobConnectionsCap bounds the connections jobs share: each holds one only
// for a short query, so more than a few per core buys no throughput on the
// database and only takes its connection slots.
const jobConnectionsCap = 16

// PoolSize is the pool a process with these workers needs: the held
// connections, River's own, the HTTP reserve and one per concurrently
// running job up to jobConnectionsCap.
func (c Capacity) PoolSize() int32 {
	jobs := 0
	for _, n := range c.Workers {
		jobs += n
	}
	return int32(heldConnections + riverInternals + httpConnections + min(jobs, jobConnectionsCap))
}

// Queues is River's queue configuration.
func (c Capacity) Queues() map[string]river.QueueConfig {
	q := make(map[string]river.QueueConfig, len(c.Workers))
	for name, n := range c.Workers {
		q[name] = river.QueueConfig{MaxWorkers: n}
	}
	return q
}
