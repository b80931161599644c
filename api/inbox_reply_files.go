package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/handoff"
	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
)

// replyMaxBytes bounds an inbox reply with a file (the blob store refuses
// above its own limit, with why).
const replyMaxBytes = 26 << 20

// limitInboxAct bounds an inbox action's body: small, except a reply, which
// may carry a file.
func limitInboxAct(small int64) gin.HandlerFunc { return limitReply(small, replyMaxBytes) }

// limitReply bounds an action's body: small, except a reply (reply), which
// may carry a file.
func limitReply(small, reply int64) gin.HandlerFunc {
	smallLimit, replyLimit := limitBody(small), limitBody(reply)
	return func(c *gin.Context) {
		if c.Param("action") == "reply" {
			replyLimit(c)
			return
		}
		smallLimit(c)
	}
}

// replyFile keeps the file an attendant attached to a reply and returns it
// as the media item the channel sends by its signed link; none attached is
// nil. A file cannot be sent without a public URL for platforms to fetch it
// from: that is a clear error, never a silent drop.
func (h *handlers) replyFile(c *gin.Context) (*memory.Media, *media.Blob, error) {
	fh, err := c.FormFile("file")
	if errors.Is(err, http.ErrMissingFile) || (err == nil && fh.Size == 0) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the file could not be read: %v", handoff.ErrInvalid, err)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("open the attached file: %w", err)
	}
	defer func() { _ = f.Close() }()
	return h.keepReplyFile(c.Request.Context(), f, fh.Filename, fh.Header.Get("Content-Type"))
}

// keepReplyFile stores a file a person sends and returns it as the media
// item the channel sends by its signed link (the inbox's upload, the API's
// base64). A file cannot be sent without a public URL for platforms to fetch
// it from: that is a clear error, never a silent drop.
func (h *handlers) keepReplyFile(ctx context.Context, r io.Reader, fileName, declared string) (*memory.Media, *media.Blob, error) {
	if !h.d.MediaLinks.Enabled() || h.d.Blobs == nil {
		return nil, nil, fmt.Errorf("%w: para enviar arquivos, o servidor precisa de ATENDE_PUBLIC_URL (o endereço de onde os canais buscam o arquivo)", handoff.ErrInvalid)
	}
	body := bufio.NewReaderSize(r, 512)
	head, _ := body.Peek(512)
	b, err := h.d.Blobs.Put(ctx, body)
	if errors.Is(err, media.ErrTooLarge) {
		return nil, nil, fmt.Errorf("%w: arquivo grande demais (%v)", handoff.ErrInvalid, err)
	}
	if err != nil {
		return nil, nil, err
	}
	mime := media.SniffMIME(head, declared, "") // as a customer's file is typed: an Ogg voice note is audio/ogg
	name := filepath.Base(strings.ReplaceAll(fileName, "\\", "/"))
	if name == "." || name == "/" {
		name = ""
	}
	m := &memory.Media{Type: mediaKindOf(mime), MIME: mime, FileName: name,
		URL: h.d.MediaLinks.URL(b.SHA256, mime, name, h.d.Now().Add(media.LinkLifetime))}
	return m, &b, nil
}

// mediaKindOf is how a channel sends a file of this type.
func mediaKindOf(mime string) string {
	switch {
	case strings.HasPrefix(mime, "image/") && mime != "image/svg+xml":
		return "image"
	case strings.HasPrefix(mime, "audio/"):
		return "audio"
	case strings.HasPrefix(mime, "video/"):
		return "video"
	}
	return "document"
}

// recordSent records the attendant's file as kept, so the card shows it
// like the customer's (thumbnail, player, link).
func (h *handlers) recordSent(c *gin.Context, accountID uuid.UUID, ev memory.Event, m memory.Media, b media.Blob) {
	if h.d.MediaFiles == nil {
		return
	}
	for i, sent := range ev.Media {
		if sent.URL != m.URL {
			continue
		}
		it := media.Item{EventID: ev.ID, Position: i, Kind: m.Type, FileName: m.FileName}
		if err := h.d.MediaFiles.Kept(c.Request.Context(), accountID, it, b, m.MIME); err != nil {
			requestLog(c).WarnContext(c.Request.Context(), "record a sent file", "event_id", ev.ID, "error", err)
		}
	}
}
