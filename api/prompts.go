package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/atende/atende/prompts"
)

// listPrompts answers every prompt of the account with the version in effect.
func (h *handlers) listPrompts(c *gin.Context) {
	list, err := h.d.Prompts.List(c.Request.Context(), accountID(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"prompts": list})
}

// promptVersions lists a prompt's versions, the active one marked.
func (h *handlers) promptVersions(c *gin.Context) {
	list, err := h.d.Prompts.Versions(c.Request.Context(), accountID(c), c.Param("name"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"versions": list})
}

type promptVersionRequest struct {
	Text     string `json:"text" binding:"required"`
	Note     string `json:"note"`
	Author   string `json:"author"`
	Activate bool   `json:"activate"`
}

// createPromptVersion stores a version (201; 200 when the same text already
// is one) and, with activate, puts it in effect.
func (h *handlers) createPromptVersion(c *gin.Context) {
	var req promptVersionRequest
	if !bindJSON(c, &req) {
		return
	}
	p, created, err := h.d.Prompts.Create(c.Request.Context(), accountID(c), c.Param("name"), req.Text, req.Note, req.Author, req.Activate)
	if err != nil {
		fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, p)
}

// activatePrompt puts a version in effect.
func (h *handlers) activatePrompt(c *gin.Context) {
	version := c.Param("version")
	if name, _, _ := cutVersion(version); name != c.Param("name") {
		badRequest(c, "version "+version+" is not a version of "+c.Param("name"))
		return
	}
	p, err := h.d.Prompts.Activate(c.Request.Context(), accountID(c), version)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// diffPrompts compares two versions (default to: the active one), line by line.
func (h *handlers) diffPrompts(c *gin.Context) {
	ctx, acct, name := c.Request.Context(), accountID(c), c.Param("name")
	fromV, toV := c.Query("from"), c.Query("to")
	if fromV == "" {
		badRequest(c, "diff needs from=NAME@HASH (and optionally to=, default the active version)")
		return
	}
	from, err := h.d.Prompts.Version(ctx, acct, fromV)
	if err != nil {
		fail(c, err)
		return
	}
	var to prompts.Prompt
	if toV == "" {
		to, err = h.d.Prompts.Get(ctx, acct, name)
	} else {
		to, err = h.d.Prompts.Version(ctx, acct, toV)
	}
	if err != nil {
		fail(c, err)
		return
	}
	if from.Name != name || to.Name != name {
		badRequest(c, "both versions must be versions of "+name)
		return
	}
	diff, err := prompts.Diff(from.Text, to.Text)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"name": name, "from": from.Version, "to": to.Version, "diff": diff})
}

func cutVersion(v string) (name, hash string, ok bool) {
	for i := len(v) - 1; i >= 0; i-- {
		if v[i] == '@' {
			return v[:i], v[i+1:], true
		}
	}
	return "", "", false
}
