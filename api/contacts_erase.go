package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// eraseContact erases a person (LGPD, direito à eliminação): the contact,
// the one it was merged into and those merged into it, with everything about
// them, and the files they sent. 204 once the database holds nothing of
// them. A file the blob store could not delete does not fail the request —
// the person's rows are gone, and so is every reference to the file — it is
// logged, with its address, for an operator to remove.
func (h *handlers) eraseContact(c *gin.Context) {
	id, ok := contactID(c)
	if !ok {
		return
	}
	if h.d.Erasure == nil {
		abortWith(c, http.StatusNotImplemented, "not_configured", "contact erasure is not configured on this server")
		return
	}
	ctx := c.Request.Context()
	res, err := h.d.Erasure.EraseContact(ctx, accountID(c), id)
	if err != nil {
		fail(c, err)
		return
	}
	log := requestLog(c)
	for _, f := range res.BlobFailures {
		log.ErrorContext(ctx, "erased contact's file left in the blob store", "sha256", f.SHA256, "error", f.Err)
	}
	log.InfoContext(ctx, "contact erased", "contact_id", res.ContactIDs[0], "contacts", len(res.ContactIDs),
		"blobs_deleted", res.BlobsDeleted, "blobs_shared", res.BlobsShared, "blobs_left", len(res.BlobFailures))
	c.Status(http.StatusNoContent)
}
