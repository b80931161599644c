package channels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/memory"
)

// annotationPayload is what an annotation event keeps: the message it is
// about (its event id when Atende has it), and what changed.
type annotationPayload struct {
	ChannelID     uuid.UUID      `json:"channel_id"`
	Annotation    AnnotationKind `json:"annotation"`
	Target        string         `json:"target"`
	TargetEventID int64          `json:"target_event_id,omitempty"`
	Emoji         string         `json:"emoji,omitempty"`
	Text          string         `json:"text,omitempty"`
	Previous      string         `json:"previous,omitempty"` // the text before an edit or a deletion
}

// ingestAnnotation records a reaction, edit or deletion on the timeline of
// the message it is about — or, when Atende never saw that message, of its
// sender — and enqueues no turn. False when it was stored before (a
// platform retry) or neither the message nor the sender is known.
func (i *Ingestor) ingestAnnotation(ctx context.Context, tx pgx.Tx, ch Channel, a Annotation) (bool, error) {
	target, err := i.memory.EventByExternalIDTx(ctx, tx, ch.AccountID, string(ch.Kind), ScopedID(ch.ID, a.Target))
	found := err == nil
	if err != nil && !errors.Is(err, memory.ErrNotFound) {
		return false, err
	}
	var contactID uuid.UUID
	var convID *uuid.UUID
	switch {
	case found:
		contactID, convID = target.ContactID, target.ConversationID
	case len(a.From.Identities) > 0:
		first := a.From.Identities[0]
		profile := memory.Profile{Channel: string(ch.Kind)}
		if !a.FromBusiness {
			profile.Name = a.From.Name
		}
		if contactID, err = i.memory.ResolveIDTx(ctx, tx, ch.AccountID, first.Kind, first.Value, profile); err != nil {
			return false, fmt.Errorf("resolve sender of %s on %s: %w", a.Kind, a.Target, err)
		}
	default:
		return false, nil
	}
	p := annotationPayload{ChannelID: ch.ID, Annotation: a.Kind, Target: a.Target, Emoji: a.Emoji, Text: a.Text}
	if found {
		p.TargetEventID = target.ID
		p.Previous = target.Text
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return false, fmt.Errorf("encode annotation payload: %w", err)
	}
	e := memory.Event{ContactID: contactID, ConversationID: convID, Kind: memory.EventAnnotation,
		Direction: memory.DirectionIn, Author: memory.AuthorContact, Channel: string(ch.Kind),
		Text: annotationText(a, p.Previous), Media: a.Media, Payload: payload,
		ExternalID: ScopedID(ch.ID, annotationID(a)), OccurredAt: precise(a.At, time.Now())}
	if a.FromBusiness {
		e.Direction, e.Author = memory.DirectionOut, memory.AuthorHuman
	}
	appended, err := i.memory.AppendTx(ctx, tx, ch.AccountID, e)
	if err != nil {
		return false, fmt.Errorf("store %s of %s: %w", a.Kind, a.Target, err)
	}
	return !appended.Duplicate, nil
}

// annotationID dedupes an annotation: its own id, else what it did to which
// message (a platform retry sends the same).
func annotationID(a Annotation) string {
	if a.ExternalID != "" {
		return "annotation:" + a.ExternalID
	}
	return fmt.Sprintf("annotation:%s:%s:%s:%s:%d", a.Kind, a.Target, a.Emoji, a.Text, a.At.Unix())
}

// annotationText is what the attendant reads on the timeline, in Portuguese,
// quoting the message it is about when Atende has it.
func annotationText(a Annotation, previous string) string {
	about := "a uma mensagem"
	if previous != "" {
		about = "à mensagem «" + clipRunes(previous, 120) + "»"
	}
	switch a.Kind {
	case AnnotationReaction:
		if a.Emoji == "" {
			return "removeu a reação " + about
		}
		return "reagiu com " + a.Emoji + " " + about
	case AnnotationEdit:
		if previous != "" {
			return "editou a mensagem: «" + a.Text + "» (antes: «" + clipRunes(previous, 120) + "»)"
		}
		return "editou uma mensagem: «" + a.Text + "»"
	case AnnotationDelete:
		if previous != "" {
			return "apagou a mensagem «" + clipRunes(previous, 120) + "»"
		}
		return "apagou uma mensagem"
	}
	return string(a.Kind) + " " + about
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
