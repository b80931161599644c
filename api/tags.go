package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/tags"
)

// Tags on contacts and conversations: /api/v1/{contacts,conversations}/{id}/tags
// and /api/v1/tags. Whoever holds an API key is recorded as "api" (no person
// is known); the inbox records an attendant by name (inbox_tags.go).

// tagSubject reads :id as the subject of; a malformed id names nothing: 404.
func tagSubject(c *gin.Context, of func(uuid.UUID) tags.Subject) (tags.Subject, bool) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		abortWith(c, http.StatusNotFound, "not_found", "not found")
		return tags.Subject{}, false
	}
	return of(id), true
}

func nonNilTags(t []tags.Tag) []tags.Tag {
	if t == nil {
		return []tags.Tag{}
	}
	return t
}

// listTagsOf answers GET …/{id}/tags.
func (h *handlers) listTagsOf(of func(uuid.UUID) tags.Subject) gin.HandlerFunc {
	return func(c *gin.Context) {
		subj, ok := tagSubject(c, of)
		if !ok {
			return
		}
		list, err := h.d.Tags.List(c.Request.Context(), accountID(c), subj)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"tags": nonNilTags(list)})
	}
}

type addTagRequest struct {
	Tag *string `json:"tag"`
}

// addTagTo answers POST …/{id}/tags {"tag"}: 201 when added, 200 when the
// subject carried it already (nothing written: a retry is harmless).
func (h *handlers) addTagTo(of func(uuid.UUID) tags.Subject) gin.HandlerFunc {
	return func(c *gin.Context) {
		subj, ok := tagSubject(c, of)
		if !ok {
			return
		}
		var req addTagRequest
		if !bindJSON(c, &req) {
			return
		}
		if req.Tag == nil {
			badRequest(c, `send {"tag": "vip"}`)
			return
		}
		ctx, acct := c.Request.Context(), accountID(c)
		ch, err := h.d.Tags.Add(ctx, acct, subj, *req.Tag, tags.API)
		if err != nil {
			fail(c, err)
			return
		}
		list, err := h.d.Tags.List(ctx, acct, subj)
		if err != nil {
			fail(c, err)
			return
		}
		status := http.StatusOK
		if ch.Changed {
			status = http.StatusCreated
		}
		c.JSON(status, gin.H{"tag": ch.Tag, "added": ch.Changed, "tags": nonNilTags(list)})
	}
}

type setTagsRequest struct {
	Tags *[]string `json:"tags"`
}

// setTagsOf answers PUT …/{id}/tags {"tags": [...]}: the subject's tags
// become exactly these ([] clears them).
func (h *handlers) setTagsOf(of func(uuid.UUID) tags.Subject) gin.HandlerFunc {
	return func(c *gin.Context) {
		subj, ok := tagSubject(c, of)
		if !ok {
			return
		}
		var req setTagsRequest
		if !bindJSON(c, &req) {
			return
		}
		if req.Tags == nil {
			badRequest(c, `send {"tags": ["vip", ...]} ([] removes them all)`)
			return
		}
		res, err := h.d.Tags.Set(c.Request.Context(), accountID(c), subj, *req.Tags, tags.API)
		if err != nil {
			fail(c, err)
			return
		}
		res.Tags = nonNilTags(res.Tags)
		c.JSON(http.StatusOK, res)
	}
}

// removeTagFrom answers DELETE …/{id}/tags/{tag}: 204 whether or not the
// subject carried it.
func (h *handlers) removeTagFrom(of func(uuid.UUID) tags.Subject) gin.HandlerFunc {
	return func(c *gin.Context) {
		subj, ok := tagSubject(c, of)
		if !ok {
			return
		}
		if _, err := h.d.Tags.Remove(c.Request.Context(), accountID(c), subj, c.Param("tag"), tags.API); err != nil {
			fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// listTags answers GET /api/v1/tags: the account's tags with their counts.
func (h *handlers) listTags(c *gin.Context) {
	list, err := h.d.Tags.Catalog(c.Request.Context(), accountID(c))
	if err != nil {
		fail(c, err)
		return
	}
	if list == nil {
		list = []tags.Counted{}
	}
	c.JSON(http.StatusOK, gin.H{"tags": list})
}
