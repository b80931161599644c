package agents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
)

// ErrUnknownSector is returned when a sector name is not one of the account's.
var ErrUnknownSector = errors.New("unknown sector")

// Reassignment is a person moving a conversation to another sector.
type Reassignment struct {
	ConversationID uuid.UUID `json:"conversation_id"`
	From           string    `json:"from"`
	To             string    `json:"to"`
	By             string    `json:"by"`
	Example        string    `json:"example,omitempty"` // the customer's message kept as a routing example
}

// Reassign moves a conversation to another sector on a person's word: the
// timeline gets an assignment event by a human, and the customer's last
// message becomes a routing example for the next `atende train` — the
// router learns from the correction.
func (o *Orchestrator) Reassign(ctx context.Context, accountID, conversationID uuid.UUID, sector, by string) (Reassignment, error) {
	sectors, err := o.sectors.Sectors(ctx, accountID)
	if err != nil {
		return Reassignment{}, err
	}
	if _, ok := sectorNamed(sectors, sector); !ok {
		names := make([]string, len(sectors))
		for i, s := range sectors {
			names[i] = s.Name
		}
		return Reassignment{}, fmt.Errorf("%w: %q (this account has %v)", ErrUnknownSector, sector, names)
	}
	conv, err := o.conversations.Get(ctx, accountID, conversationID)
	if err != nil {
		return Reassignment{}, err
	}
	msg, hasMsg, err := o.memory.LastCustomerMessage(ctx, accountID, conversationID)
	if err != nil {
		return Reassignment{}, err
	}
	r := Reassignment{ConversationID: conversationID, From: conv.Sector, To: sector, By: by}
	if hasMsg {
		r.Example = msg.Text
	}
	payload, _ := json.Marshal(r)
	err = database.InTx(ctx, o.pool, func(tx pgx.Tx) error {
		if err := o.conversations.SetTx(ctx, tx, accountID, conversationID, sector, conv.Status); err != nil {
			return err
		}
		contactID := msg.ContactID
		if !hasMsg {
			return fmt.Errorf("%w: conversation %s has no customer message", memory.ErrNotFound, conversationID)
		}
		_, err := o.memory.AppendTx(ctx, tx, accountID, memory.Event{ContactID: contactID, ConversationID: &conversationID, Kind: memory.EventAssignment,
			Direction: memory.DirectionInternal, Author: memory.AuthorHuman, Text: fmt.Sprintf("setor: %s → %s (%s)", displaySector(conv.Sector), sector, by),
			Payload: payload})
		return err
	})
	if err != nil {
		return Reassignment{}, fmt.Errorf("reassign %s to %s: %w", conversationID, sector, err)
	}
	if r.From != sector {
		if err := o.routers.RecordCorrection(ctx, accountID, &msg.ID, msg.Text, sector, by); err != nil {
			return Reassignment{}, err
		}
	}
	return r, nil
}

func displaySector(s string) string {
	if s == "" {
		return "nenhum"
	}
	return s
}
