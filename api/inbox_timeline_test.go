package api

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/atende/atende/memory"
)

// A reaction, an edit and a deletion show on the message they are about,
// not as lines of their own; one about a message off the page stays a line.
func TestAnnotationsShowOnTheirMessage(t *testing.T) {
	ann := func(id int64, payload map[string]any) memory.Event {
		raw, _ := json.Marshal(payload)
		return memory.Event{ID: id, Kind: memory.EventAnnotation, Text: "reagiu", Payload: raw}
	}
	events := []memory.Event{
		{ID: 1, Kind: memory.EventMessage, Text: "quanto custa o plano anual?"},
		ann(2, map[string]any{"annotation": "reaction", "target_event_id": 1, "emoji": "👍"}),
		ann(3, map[string]any{"annotation": "edit", "target_event_id": 1, "text": "quanto custa o plano mensal?"}),
		ann(4, map[string]any{"annotation": "delete", "target_event_id": 1}),
		ann(5, map[string]any{"annotation": "reaction", "target_event_id": 99, "emoji": "❤️"}),
	}
	rows := timelineRows(events, nil)
	if len(rows) != 2 || rows[0].ID != 1 || rows[1].ID != 5 {
		t.Fatalf("rows: %+v", rows)
	}
	want := []string{"👍", "editada: «quanto custa o plano mensal?»", "apagada pelo cliente"}
	if !reflect.DeepEqual(rows[0].Marks, want) {
		t.Fatalf("marks %q, want %q", rows[0].Marks, want)
	}
}
