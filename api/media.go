package api

import (
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/media"
)

// getMedia streams a media file to its account (404 for any other): the
// bytes with their sniffed type, 202 while the download is pending, 410
// with the reason when it failed.
func (h *handlers) getMedia(c *gin.Context) { h.serveMedia(c, accountID(c)) }

// inboxMedia serves a media file to a logged-in attendant of its account:
// the thumbnails, players and links of the card's timeline.
func (h *handlers) inboxMedia(c *gin.Context) { h.serveMedia(c, session(c).AccountID) }

func (h *handlers) serveMedia(c *gin.Context, account uuid.UUID) {
	if h.d.MediaFiles == nil || h.d.Blobs == nil {
		abortWith(c, http.StatusNotFound, "not_found", "media is not kept by this server")
		return
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		abortWith(c, http.StatusNotFound, "not_found", "not found")
		return
	}
	f, err := h.d.MediaFiles.Get(c.Request.Context(), account, id)
	if err != nil {
		fail(c, err)
		return
	}
	switch f.Status {
	case media.StatusPending:
		c.JSON(http.StatusAccepted, f)
		return
	case media.StatusFailed:
		abortWith(c, http.StatusGone, "media_failed", "the file could not be fetched: "+f.Error)
		return
	}
	r, err := h.d.Blobs.Open(c.Request.Context(), f.SHA256)
	if err != nil {
		fail(c, err)
		return
	}
	defer func() { _ = r.Close() }()
	c.Header("Content-Type", f.MIME)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Cache-Control", "private, max-age=86400")
	if f.FileName != "" {
		c.Header("Content-Disposition", `inline; filename="`+sanitizeFileName(f.FileName)+`"`)
	}
	if rs, ok := r.(io.ReadSeeker); ok {
		// ranges: an audio or video player seeks without downloading it all
		http.ServeContent(c.Writer, c.Request, "", f.UpdatedAt, rs)
		return
	}
	c.Header("Content-Length", strconv.FormatInt(f.Size, 10))
	c.Status(http.StatusOK)
	_, _ = io.Copy(c.Writer, r)
}

// sanitizeFileName keeps a header's file name to what cannot break it.
func sanitizeFileName(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r < 0x20 || r == '"' || r == '\\' || r == 0x7f {
			r = '_'
		}
		out = append(out, r)
	}
	return string(out)
}
