package channels

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
)

// StatusHeld is a message kept until the customer answers: the channel's
// window was closed, so the approved re-engagement template went instead
// and the message itself goes as soon as the customer writes back.
const StatusHeld = "held"

// heldText is what the timeline says of a held message.
const heldText = "aguardando o cliente responder ao modelo"

// heldForTemplate is plan's answer for a message outside the window of a
// channel with a re-engagement template: hold it and send the template.
type heldForTemplate struct {
	template Template
	last     memory.Event // the customer's last message on the channel
}

func (h heldForTemplate) Error() string {
	return "window closed: template " + h.template.Name + " first, the message held"
}

// hold sends the re-engagement template (once while the customer has not
// answered it) and keeps the message: a "held" status says so on the
// timeline, and the customer's next message releases it (ReleaseHeldTx).
// Before, the message was replaced by the template, dropped, and the
// timeline said "sent".
func (o *Outbox) hold(ctx context.Context, accountID uuid.UUID, ev memory.Event, ch Channel, h heldForTemplate) error {
	err := database.InTx(ctx, o.pool, func(tx pgx.Tx) error {
		if last, ok, err := o.memory.LastInboundTx(ctx, tx, accountID, ev.ContactID, string(ch.Kind)); err != nil {
			return err
		} else if ok && last.ID != h.last.ID {
			// the customer wrote while this was planned: the window may be
			// open again, so plan it again rather than hold it for nothing
			return errWindowMoved
		}
		asked, err := o.memory.TemplateSinceTx(ctx, tx, accountID, ev.ContactID, string(ch.Kind), h.last.ID)
		if err != nil {
			return err
		}
		if !asked {
			tpl := h.template
			if _, err := o.Queue(ctx, tx, accountID, Outgoing{ContactID: ev.ContactID, ConversationID: ev.ConversationID,
				ChannelID: ch.ID, Template: &tpl, Author: memory.AuthorSystem}); err != nil {
				return fmt.Errorf("queue the re-engagement template for %d: %w", ev.ID, err)
			}
		}
		return o.recordStatusTx(ctx, tx, accountID, ev, ch, StatusHeld, ScopedID(ch.ID, "held:"+strconv.FormatInt(ev.ID, 10)+":"+strconv.FormatInt(h.last.ID, 10)),
			heldText, nil)
	})
	if err != nil {
		return err
	}
	// A customer's message stored while the hold was being written did not
	// see it (neither saw the other's uncommitted rows): look once more, now
	// that the hold is there for every message after this one to see.
	last, ok, err := o.memory.LastInbound(ctx, accountID, ev.ContactID, string(ch.Kind))
	if err != nil || !ok || last.ID == h.last.ID {
		return err
	}
	return database.InTx(ctx, o.pool, func(tx pgx.Tx) error {
		return o.ReleaseHeldTx(ctx, tx, accountID, ev.ContactID, ch.Kind, last.ID)
	})
}

// ReleaseHeldTx enqueues the delivery of the contact's held messages on the
// channel, in the transaction that stored the customer's message (eventID)
// that reopened its window. The job is keyed by the hold, not by the
// customer's message: two messages in one delivery, or a second one before
// the released reply went out, release it once (River skips the duplicate
// while the first delivery waits or runs), never as two deliveries that
// would send it twice side by side.
func (o *Outbox) ReleaseHeldTx(ctx context.Context, tx pgx.Tx, accountID, contactID uuid.UUID, channel Kind, eventID int64) error {
	held, err := o.memory.HeldMessagesTx(ctx, tx, accountID, contactID, string(channel))
	if err != nil {
		return err
	}
	for _, h := range held {
		if _, err := o.jobs.InsertTx(ctx, tx, SendArgs{AccountID: accountID, EventID: h.Message, ReleasedBy: h.Hold}, nil); err != nil {
			return fmt.Errorf("release held message %d (by %d): %w", h.Message, eventID, err)
		}
	}
	return nil
}

// errWindowMoved is a hold abandoned because the customer wrote meanwhile:
// the delivery is tried again (River's retry) and finds the window open.
var errWindowMoved = errors.New("the customer wrote while the reply was planned; planning it again")
