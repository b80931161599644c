package api

import (
	"net/http"

	"github.com/atende/atende/knowledge"
	"github.com/gin-gonic/gin"
)

type knowledgeRequest struct {
	Sector string `json:"sector" binding:"required"`
	Title  string `json:"title" binding:"required"`
	Body   string `json:"body" binding:"required"`
	Source string `json:"source"`
}

// putKnowledge stores a sector's article (an FAQ answer, a policy), replacing
// the one with the same sector and title.
func (h *handlers) putKnowledge(c *gin.Context) {
	var req knowledgeRequest
	if !bindJSON(c, &req) {
		return
	}
	id, err := h.d.Knowledge.Upsert(c.Request.Context(), accountID(c),
		knowledge.Article{Sector: req.Sector, Title: req.Title, Body: req.Body, Source: req.Source})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": id})
}

// getKnowledge lists a sector's articles, or with q= runs the hybrid search an agent would.
func (h *handlers) getKnowledge(c *gin.Context) {
	sector, q := c.Query("sector"), c.Query("q")
	if q == "" {
		list, err := h.d.Knowledge.List(c.Request.Context(), accountID(c), sector)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"knowledge": list})
		return
	}
	if sector == "" {
		badRequest(c, "searching knowledge (q=) needs sector=")
		return
	}
	k, ok := intParam(c, "k", 3, 1, 20)
	if !ok {
		return
	}
	hits, err := h.d.Knowledge.Search(c.Request.Context(), accountID(c), sector, q, k)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"knowledge": hits})
}
