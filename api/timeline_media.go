package api

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
)

// mediaView is a media item as the timeline shows it: what the platform said
// of it (type, caption, file name, duration, transcript) and what became of
// the file Atende keeps (its id to fetch it by, status, sniffed type, size).
type mediaView struct {
	memory.Media
	FileID      *uuid.UUID        `json:"id,omitempty"`
	Status      media.Status      `json:"status,omitempty"`
	Size        int64             `json:"size,omitempty"`
	Error       string            `json:"error,omitempty"`
	WordsStatus media.WordsStatus `json:"words_status,omitempty"`
	WordsError  string            `json:"words_error,omitempty"`
}

// eventView is a timeline event with its media as the timeline shows them.
type eventView struct {
	memory.Event
	Media []mediaView `json:"media,omitempty"`
}

// mediaOf joins each event's media items to their kept files (one query
// for the page). Without a media store the items are shown as they came.
func (h *handlers) mediaOf(ctx context.Context, accountID uuid.UUID, events []memory.Event) (map[int64][]mediaView, error) {
	var ids []int64
	for _, e := range events {
		if len(e.Media) > 0 {
			ids = append(ids, e.ID)
		}
	}
	out := make(map[int64][]mediaView, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	files := map[int64][]media.File{}
	if h.d.MediaFiles != nil {
		var err error
		if files, err = h.d.MediaFiles.OfEvents(ctx, accountID, ids); err != nil {
			return nil, err
		}
	}
	for _, e := range events {
		if len(e.Media) == 0 {
			continue
		}
		views := make([]mediaView, len(e.Media))
		for i, m := range e.Media {
			views[i] = mediaView{Media: m}
		}
		for _, f := range files[e.ID] {
			if f.Position >= len(views) {
				continue
			}
			v := &views[f.Position]
			id := f.ID
			v.FileID, v.Status, v.Size, v.Error = &id, f.Status, f.Size, f.Error
			v.WordsStatus, v.WordsError = f.WordsStatus, f.WordsError
			if f.MIME != "" {
				v.MIME = f.MIME // sniffed, not what the platform claimed
			}
		}
		out[e.ID] = views
	}
	return out, nil
}

// eventViews are the page's events with their media joined.
func (h *handlers) eventViews(ctx context.Context, accountID uuid.UUID, events []memory.Event) ([]eventView, error) {
	byEvent, err := h.mediaOf(ctx, accountID, events)
	if err != nil {
		return nil, err
	}
	out := make([]eventView, len(events))
	for i, e := range events {
		out[i] = eventView{Event: e, Media: byEvent[e.ID]}
	}
	return out, nil
}

// sizeLabel writes a file's size as people read it: "84 KB", "2,3 MB".
func sizeLabel(n int64) string {
	switch {
	case n <= 0:
		return ""
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%d KB", (n+512)>>10)
	}
	return strings.Replace(fmt.Sprintf("%.1f MB", float64(n)/(1<<20)), ".", ",", 1)
}

// secondsLabel writes a duration as a player shows it: "0:42", "3:05".
func secondsLabel(s int) string {
	if s <= 0 {
		return ""
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// mediaNoun names a media kind in the inbox's words.
func mediaNoun(kind string) string {
	switch kind {
	case "audio", "voice":
		return "Áudio"
	case "image":
		return "Imagem"
	case "sticker":
		return "Figurinha"
	case "video":
		return "Vídeo"
	}
	return "Arquivo"
}
