package api

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/media"
)

// getMedia streams a media file to its account (404 for any other): the
// bytes with their sniffed type, 202 while the download is pending, 410
// with the reason when it failed or its bytes are no longer kept.
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
	h.sendBlob(c, f.SHA256, f.MIME, f.FileName, "private, max-age=86400", f.UpdatedAt)
}

// sendBlob streams a stored file with the headers that keep it from acting
// on our origin (fileHeaders); ranges, so a player seeks without
// downloading it all. A blob gone from the store is 410.
func (h *handlers) sendBlob(c *gin.Context, sha, mime, name, cache string, modified time.Time) {
	r, err := h.d.Blobs.Open(c.Request.Context(), sha)
	if errors.Is(err, os.ErrNotExist) {
		abortWith(c, http.StatusGone, "media_gone", "the file is no longer kept")
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	defer func() { _ = r.Close() }()
	fileHeaders(c, mime, name)
	c.Header("Cache-Control", cache)
	if rs, ok := r.(io.ReadSeeker); ok {
		http.ServeContent(c.Writer, c.Request, "", modified, rs)
		return
	}
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

// publicMedia serves a file by its signed link (media.Links): what a
// platform fetches to deliver an attendant's file. No key: the signature is
// the permission, and it covers the file, its type, its name and its expiry.
func (h *handlers) publicMedia(c *gin.Context) {
	sha := c.Param("sha")
	if h.d.MediaLinks == nil || h.d.Blobs == nil {
		abortWith(c, http.StatusNotFound, "not_found", "not found")
		return
	}
	switch err := h.d.MediaLinks.Verify(sha, c.Request.URL.Query(), h.d.Now()); {
	case errors.Is(err, media.ErrExpiredLink):
		abortWith(c, http.StatusGone, "link_expired", "this file link has expired")
		return
	case err != nil:
		abortWith(c, http.StatusForbidden, "bad_link", "this file link is not valid")
		return
	}
	h.sendBlob(c, sha, c.Query("type"), c.Query("name"), "public, max-age=3600", time.Time{})
}

// fileHeaders serve a file someone else made (a customer's, an attendant's
// upload) from Atende's own origin without letting it act there: no
// sniffing, a sandbox with no script, and anything but a picture, a sound,
// a video or a PDF downloaded rather than shown (an HTML "document" sent by
// a customer never runs in an attendant's inbox).
func fileHeaders(c *gin.Context, mime, name string) {
	c.Header("Content-Type", mime)
	c.Header("X-Content-Type-Options", "nosniff")
	if !isPDF(mime) { // a sandbox would keep the browser's PDF viewer from opening it
		c.Header("Content-Security-Policy", "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox")
	}
	disposition := "attachment"
	if shownInline(mime) {
		disposition = "inline"
	}
	if name != "" {
		disposition += `; filename="` + sanitizeFileName(name) + `"`
	}
	c.Header("Content-Disposition", disposition)
}

func isPDF(mime string) bool {
	mt, _, _ := strings.Cut(mime, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/pdf")
}

func shownInline(mime string) bool {
	mt, _, _ := strings.Cut(mime, ";")
	mt = strings.TrimSpace(strings.ToLower(mt))
	switch {
	case mt == "image/svg+xml":
		return false // an SVG is a document that can carry script
	case strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "audio/"), strings.HasPrefix(mt, "video/"), mt == "application/pdf":
		return true
	}
	return false
}
