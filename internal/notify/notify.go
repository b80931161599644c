// Package notify wakes the pages and streams that show something when it
// changes, on every `atende serve` replica, through PostgreSQL LISTEN/NOTIFY.
// Subscribers name a topic (a webchat visitor's stream, an account's inbox);
// what a topic means is its callers' business: here it is only a string.
package notify

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Channel is the PostgreSQL NOTIFY channel topics are announced on. Its name
// predates this package (the webchat was its first user) and is kept so
// replicas of different versions still hear each other during a deploy.
const Channel = "atende_webchat"

// Hub wakes the subscribers of a topic here when it is poked or notified,
// and on every replica through LISTEN/NOTIFY.
type Hub struct {
	pool    *pgxpool.Pool
	mu      sync.Mutex
	subs    map[string]map[chan struct{}]struct{}
	pending map[string]struct{} // topics poked since the last flush
}

// New returns a Hub; Run must be started for it to hear other replicas and
// to announce pokes.
func New(pool *pgxpool.Pool) *Hub {
	return &Hub{pool: pool, subs: map[string]map[chan struct{}]struct{}{}, pending: map[string]struct{}{}}
}

// pokeInterval is how often poked topics are announced to the other
// replicas: an inbox refresh a tenth of a second late, in exchange for no
// NOTIFY inside the webhook's and the turn's transactions.
const pokeInterval = 100 * time.Millisecond

// Poke wakes a topic's subscribers here at once and on every replica within
// pokeInterval. Call it after the transaction that changed what they show
// committed. Why not Tx on the hot paths: PostgreSQL serialises every
// committing transaction that has a NOTIFY on one database-wide lock held
// through the commit's flush, so webhook and turn transactions carrying one
// queue behind each other. Many pokes of one topic become one NOTIFY.
func (h *Hub) Poke(topic string) {
	h.wake(topic)
	h.mu.Lock()
	h.pending[topic] = struct{}{}
	h.mu.Unlock()
}

// flushPokes announces the poked topics, each once, in autocommitted
// statements that hold the notify lock only for themselves.
func (h *Hub) flushPokes(ctx context.Context) {
	h.mu.Lock()
	topics := make([]string, 0, len(h.pending))
	for t := range h.pending {
		topics = append(topics, t)
	}
	clear(h.pending)
	h.mu.Unlock()
	if len(topics) == 0 {
		return
	}
	if _, err := h.pool.Exec(ctx, `SELECT pg_notify($1, t) FROM unnest($2::text[]) t`, Channel, topics); err != nil && ctx.Err() == nil {
		h.mu.Lock() // try again at the next flush
		for _, t := range topics {
			h.pending[t] = struct{}{}
		}
		h.mu.Unlock()
	}
}

// Subscribe returns a channel that receives a signal whenever the topic is
// woken (signals coalesce: one pending at most), and the function that ends
// the subscription.
func (h *Hub) Subscribe(topic string) (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs[topic] == nil {
		h.subs[topic] = map[chan struct{}]struct{}{}
	}
	h.subs[topic][c] = struct{}{}
	h.mu.Unlock()
	return c, func() {
		h.mu.Lock()
		delete(h.subs[topic], c)
		if len(h.subs[topic]) == 0 {
			delete(h.subs, topic)
		}
		h.mu.Unlock()
	}
}

func (h *Hub) wake(topic string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs[topic] {
		select {
		case c <- struct{}{}:
		default: // a signal is already pending
		}
	}
}

// Run listens for notifications until ctx ends, reconnecting after errors,
// and announces pokes. After a reconnect every subscriber is woken, since a
// notification may have been missed.
func (h *Hub) Run(ctx context.Context) error {
	go func() {
		tick := time.NewTicker(pokeInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				h.flushPokes(ctx)
			}
		}
	}()
	for ctx.Err() == nil {
		if err := h.listen(ctx); err != nil && ctx.Err() == nil {
			time.Sleep(time.Second)
		}
		h.mu.Lock()
		topics := make([]string, 0, len(h.subs))
		for t := range h.subs {
			topics = append(topics, t)
		}
		h.mu.Unlock()
		for _, t := range topics {
			h.wake(t)
		}
	}
	return nil
}

func (h *Hub) listen(ctx context.Context) error {
	conn, err := h.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		h.wake(n.Payload)
	}
}

// Notify wakes a topic's subscribers on every replica now, in its own
// autocommitted statement (the webchat's transport: the reply is already on
// the timeline, where the visitor's stream reads it).
func (h *Hub) Notify(ctx context.Context, topic string) error {
	if _, err := h.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, topic); err != nil {
		return fmt.Errorf("notify %s: %w", topic, err)
	}
	return nil
}

// Tx wakes a topic's subscribers on every replica when tx commits (and never
// if it rolls back). It holds PostgreSQL's notify lock through the commit:
// keep it off hot paths (see Poke).
func Tx(ctx context.Context, tx pgx.Tx, topic string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, topic); err != nil {
		return fmt.Errorf("notify %s: %w", topic, err)
	}
	return nil
}
