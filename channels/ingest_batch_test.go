package channels

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/atende/atende/memory"
)

// failingTurns refuses to enqueue the turn of one message, the way the
// database refuses a row it cannot take, or fails like a lost connection.
type failingTurns struct {
	bad string // text of the message whose turn fails
	err error
}

func (f *failingTurns) EnqueueTurn(ctx context.Context, tx pgx.Tx, t Turn) error {
	// The message is not visible outside the transaction: read it through it.
	var text string
	if err := tx.QueryRow(ctx, `SELECT text FROM events WHERE id = $1`, t.EventID).Scan(&text); err != nil {
		return err
	}
	if text == f.bad {
		return f.err
	}
	return nil
}

func TestOneItemTheDatabaseRefusesNeverSinksTheBatch(t *testing.T) {
	for _, c := range []struct {
		name      string
		err       error
		wantSaved int
	}{
		{"a data error skips that message alone", &pgconn.PgError{Code: "22P02", Message: "invalid input syntax"}, 2},
		{"a broken database fails the whole delivery, to be retried", errors.New("conn closed"), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newOutboxEnv(t)
			ch := e.whatsapp(t, "http://127.0.0.1:9")
			turns := &failingTurns{bad: "esta não entra", err: c.err}
			ing := NewIngestor(e.pool, e.mem, turns)
			msg := func(id, phone, text string) Inbound {
				return Inbound{ExternalID: id, Type: "text", Text: text, At: time.Now(),
					From: Sender{Identities: []memory.Identity{{Kind: memory.KindWhatsApp, Value: phone}}}}
			}
			res, err := ing.Ingest(context.Background(), ch, Batch{Messages: []Inbound{
				msg("w1", "5511987650001", "quero o boleto"), msg("w2", "5511987650002", "esta não entra"),
				msg("w3", "5511987650003", "qual o prazo?")}})
			if c.wantSaved == 0 {
				if err == nil {
					t.Fatalf("a broken database must fail the delivery: %+v", res)
				}
			} else if err != nil || res.Stored != 2 || len(res.Skipped) != 1 || res.Skipped[0].ExternalID != "w2" ||
				!strings.Contains(res.Skipped[0].Reason, "invalid input syntax") {
				t.Fatalf("two stored and w2 skipped with its reason: %+v, %v", res, err)
			}
			var saved int
			if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE account_id = $1 AND kind = 'message'`,
				e.acct).Scan(&saved); err != nil {
				t.Fatal(err)
			}
			if saved != c.wantSaved {
				t.Fatalf("%d messages on the timelines, want %d (the refused one rolled back alone)", saved, c.wantSaved)
			}
		})
	}
}
