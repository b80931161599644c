package api

import (
	"encoding/json"

	"github.com/atende/atende/channels"
	"github.com/atende/atende/memory"
)

// timelineRow is one line of the card's history: an event and the marks
// its annotations leave on it (👍, "editada", "apagada").
type timelineRow struct {
	memory.Event
	Marks []string
	// Files are the message's media as the card shows them: thumbnail,
	// player (with the transcript), named link.
	Files []mediaView
	// Shown is the event in the team's words (see shown); Quiet lines are
	// the ones a person skims (routing decisions, field edits).
	Shown string
	Quiet bool
	// Delivery is an outbound message's latest delivery status ("entregue").
	Delivery string
}

// timelineRows folds each reaction, edit and deletion into the message it
// is about, as the customer's app shows it: "👍" under the message, its new
// text, "apagada", and each delivery status into its message ("entregue").
// An annotation or status whose message is not in the page stays a line of
// its own.
func timelineRows(events []memory.Event, files map[int64][]mediaView) []timelineRow {
	rows := make([]timelineRow, 0, len(events))
	at := map[int64]int{}
	for _, e := range events {
		if e.Kind == memory.EventAnnotation {
			var p struct {
				Annotation channels.AnnotationKind `json:"annotation"`
				Target     int64                   `json:"target_event_id"`
				Emoji      string                  `json:"emoji"`
				Text       string                  `json:"text"`
			}
			if json.Unmarshal(e.Payload, &p) == nil && p.Target != 0 {
				if i, ok := at[p.Target]; ok {
					rows[i].Marks = append(rows[i].Marks, annotationMark(p.Annotation, p.Emoji, p.Text))
					continue
				}
			}
		}
		if e.Kind == memory.EventStatus {
			var p struct {
				Message int64 `json:"message_event_id"`
			}
			if json.Unmarshal(e.Payload, &p) == nil {
				if i, ok := at[p.Message]; ok {
					rows[i].Delivery, _ = shown(e) // the latest status of the message, on its own line
					continue
				}
			}
		}
		at[e.ID] = len(rows)
		text, quiet := shown(e)
		rows = append(rows, timelineRow{Event: e, Files: files[e.ID], Shown: text, Quiet: quiet})
	}
	return rows
}

func annotationMark(kind channels.AnnotationKind, emoji, text string) string {
	switch kind {
	case channels.AnnotationReaction:
		if emoji == "" {
			return "reação removida"
		}
		return emoji
	case channels.AnnotationEdit:
		return "editada: «" + text + "»"
	case channels.AnnotationDelete:
		return "apagada pelo cliente"
	}
	return string(kind)
}
