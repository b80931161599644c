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
	Group         string         `json:"group,omitempty"`
}

// ingestAnnotation records a reaction, edit or deletion on the timeline of
// the message it is about and enqueues no turn. It is linked to that
// message only when its sender is the message's contact (or the business):
// a customer can react to the bot's reply, but never edit, delete or quote
// someone else's message — an annotation naming another contact's message
// id (forged, or a group member reacting to another) goes on the sender's
// own timeline, unlinked. False when it was stored before (a platform retry)
// or neither the message nor the sender is known.
func (i *Ingestor) ingestAnnotation(ctx context.Context, tx pgx.Tx, ch Channel, a Annotation) (bool, error) {
	target, found, err := i.annotationTarget(ctx, tx, ch, a.Target)
	if err != nil {
		return false, err
	}
	var sender uuid.UUID
	if len(a.From.Identities) > 0 {
		first := a.From.Identities[0]
		profile := memory.Profile{Channel: string(ch.Kind)}
		if !a.FromBusiness {
			profile.Name = a.From.Name
		}
		if sender, err = i.memory.ResolveIDTx(ctx, tx, ch.AccountID, first.Kind, first.Value, profile); err != nil {
			return false, fmt.Errorf("resolve sender of %s on %s: %w", a.Kind, a.Target, err)
		}
	}
	if found && !a.FromBusiness && sender != uuid.Nil && (sender != target.ContactID ||
		a.Kind != AnnotationReaction && target.Direction != memory.DirectionIn) {
		found = false // not the sender's message to annotate
	}
	var contactID uuid.UUID
	var convID *uuid.UUID
	switch {
	case found:
		contactID, convID = target.ContactID, target.ConversationID
	case sender != uuid.Nil:
		contactID = sender
	default:
		return false, nil
	}
	if len([]rune(a.Text)) > maxAnnotationText {
		a.Text = clipRunes(a.Text, maxAnnotationText)
	}
	p := annotationPayload{ChannelID: ch.ID, Annotation: a.Kind, Target: a.Target, Emoji: a.Emoji, Text: a.Text, Group: a.Group}
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

// maxAnnotationText bounds an edit's new text on the annotation (the
// timeline's event limit is far above; a platform's edit is a message).
const maxAnnotationText = 4000

// annotationTarget is the message an annotation is about: found by its
// platform id on the channel; when that id is the one the platform gave a
// message Atende sent (recorded on its "sent" status), the message itself.
func (i *Ingestor) annotationTarget(ctx context.Context, tx pgx.Tx, ch Channel, platformID string) (memory.Event, bool, error) {
	if platformID == "" {
		return memory.Event{}, false, nil
	}
	e, err := i.memory.EventByExternalIDTx(ctx, tx, ch.AccountID, string(ch.Kind), ScopedID(ch.ID, platformID))
	if errors.Is(err, memory.ErrNotFound) {
		return memory.Event{}, false, nil
	}
	if err != nil {
		return memory.Event{}, false, err
	}
	if e.Kind == memory.EventStatus {
		var sp struct {
			MessageEventID int64 `json:"message_event_id"`
		}
		if json.Unmarshal(e.Payload, &sp) != nil || sp.MessageEventID == 0 {
			return memory.Event{}, false, nil
		}
		if e, err = i.memory.EventTx(ctx, tx, ch.AccountID, sp.MessageEventID); err != nil {
			if errors.Is(err, memory.ErrNotFound) {
				return memory.Event{}, false, nil
			}
			return memory.Event{}, false, err
		}
	}
	return e, true, nil
}

// annotationID dedupes an annotation: its own id, else what it did to which
// message (a platform retry sends the same).
func annotationID(a Annotation) string {
	if a.Kind == AnnotationDelete && a.Target != "" {
		// a message is deleted once, however many events say so (Evolution
		// sends a revoke upsert and a messages.delete)
		return "annotation:delete:" + a.Target
	}
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
