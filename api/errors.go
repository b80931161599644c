package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/agents"
	"github.com/atende/atende/audit"
	"github.com/atende/atende/canned"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/conversations"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/knowledge"
	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
	"github.com/atende/atende/prompts"
	"github.com/atende/atende/tags"
	"github.com/atende/atende/webhooks"
)

// errorBody is the one shape every error takes: {"error": {"code", "message"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func abortWith(c *gin.Context, status int, code, message string) {
	c.AbortWithStatusJSON(status, errorBody{Error: errorDetail{Code: code, Message: message}})
}

// fail answers an error from the domain with the status its sentinel implies.
// Unknown errors are logged through the configured logger (Deps.Log) with the
// request id and answered without detail: the user quotes the id, we find the line.
func fail(c *gin.Context, err error) {
	var tooLarge *http.MaxBytesError
	var invalidID *memory.InvalidIdentifierError
	switch {
	case errors.As(err, &tooLarge):
		abortWith(c, http.StatusRequestEntityTooLarge, "too_large", "request body is larger than the limit")
	case errors.As(err, &invalidID):
		abortWith(c, http.StatusUnprocessableEntity, "invalid_identifier", invalidID.Error())
	case errors.Is(err, memory.ErrNotFound):
		abortWith(c, http.StatusNotFound, "not_found", "not found")
	case errors.Is(err, memory.ErrConflict):
		abortWith(c, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, memory.ErrInvalidEvent), errors.Is(err, knowledge.ErrInvalid), errors.Is(err, memory.ErrBadCursor), errors.Is(err, memory.ErrBudgetTooSmall),
		errors.Is(err, tags.ErrInvalid), errors.Is(err, canned.ErrInvalid), errors.Is(err, audit.ErrBadFilter):
		abortWith(c, http.StatusBadRequest, "bad_request", err.Error())
	case errors.Is(err, canned.ErrDuplicate):
		abortWith(c, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, prompts.ErrNotFound):
		abortWith(c, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, prompts.ErrInvalid), errors.Is(err, agents.ErrUnknownSector), errors.Is(err, agents.ErrInvalidSector):
		abortWith(c, http.StatusUnprocessableEntity, "invalid", err.Error())
	case errors.Is(err, handoff.ErrNotFound), errors.Is(err, webhooks.ErrNotFound), errors.Is(err, conversations.ErrNotFound),
		errors.Is(err, channels.ErrNotFound):
		abortWith(c, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, handoff.ErrInvalid), errors.Is(err, webhooks.ErrInvalid):
		abortWith(c, http.StatusUnprocessableEntity, "invalid", err.Error())
	case errors.Is(err, handoff.ErrForbidden):
		abortWith(c, http.StatusForbidden, "forbidden", err.Error())
	case errors.Is(err, handoff.ErrClosed):
		abortWith(c, http.StatusConflict, "closed", err.Error())
	case errors.Is(err, outbound.ErrBlocked), errors.Is(err, outbound.ErrBadURL):
		abortWith(c, http.StatusUnprocessableEntity, "outbound_refused", err.Error())
	case errors.Is(err, media.ErrNotFound), errors.Is(err, canned.ErrNotFound):
		abortWith(c, http.StatusNotFound, "not_found", "not found")
	case errors.Is(err, accounts.ErrKeyNotFound), errors.Is(err, accounts.ErrNotFound):
		abortWith(c, http.StatusNotFound, "not_found", "not found")
	case errors.Is(err, accounts.ErrLastKey):
		abortWith(c, http.StatusConflict, "last_key", accounts.ErrLastKey.Error())
	case errors.Is(err, accounts.ErrAmbiguousKey):
		abortWith(c, http.StatusConflict, "conflict", accounts.ErrAmbiguousKey.Error())
	case errors.Is(err, accounts.ErrInvalid):
		abortWith(c, http.StatusUnprocessableEntity, "invalid", err.Error())
	case errors.Is(err, accounts.ErrUnauthorized):
		abortWith(c, http.StatusUnauthorized, "unauthorized", "missing or invalid API key")
	default:
		requestLog(c).ErrorContext(c.Request.Context(), "request failed",
			slog.String("method", c.Request.Method), slog.String("route", c.FullPath()), slog.Any("error", err))
		abortWith(c, http.StatusInternalServerError, "internal", "internal error; quote request id "+requestID(c))
	}
}

// badRequest answers malformed input (unparseable JSON, a missing field).
func badRequest(c *gin.Context, message string) {
	abortWith(c, http.StatusBadRequest, "bad_request", message)
}

// bindJSON decodes the body, answering 400 (or 413) itself when it cannot.
func bindJSON(c *gin.Context, dst any) bool {
	if err := c.ShouldBindJSON(dst); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			fail(c, err)
			return false
		}
		badRequest(c, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}
