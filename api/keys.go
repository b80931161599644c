package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/accounts"
)

// KeyManager issues, lists and revokes an account's API keys, for the
// /api/v1/keys routes. Any valid key of an account manages that account's
// keys: API keys carry no role (the admin role is the inbox attendants'),
// so a key is as trusted as the account it acts for.
type KeyManager interface {
	Keys(ctx context.Context, accountID uuid.UUID) ([]accounts.Key, error)
	CreateKey(ctx context.Context, accountID uuid.UUID, name string) (accounts.Key, string, error)
	RevokeKey(ctx context.Context, accountID uuid.UUID, ref string, opts accounts.RevokeOptions) (accounts.Key, int, error)
}

// keyManager is Deps.Keys or, when unset, the authenticator itself when it
// manages keys too (as *accounts.Store does), so a server wired before the
// key routes existed serves them with no change; nil answers 404.
func (h *handlers) keyManager(c *gin.Context) (KeyManager, bool) {
	km := h.d.Keys
	if km == nil {
		km, _ = h.d.Auth.(KeyManager)
	}
	if km == nil {
		abortWith(c, http.StatusNotFound, "not_found", "key management is not served here")
		return nil, false
	}
	return km, true
}

type createKeyRequest struct {
	Name string `json:"name"`
}

// issuedKey is the answer to POST /api/v1/keys: the key in clear, once.
type issuedKey struct {
	accounts.Key
	Secret string `json:"key"`
}

// listKeys shows the account's keys, revoked ones too, by prefix and label:
// never a key nor its hash.
func (h *handlers) listKeys(c *gin.Context) {
	km, ok := h.keyManager(c)
	if !ok {
		return
	}
	list, err := km.Keys(c.Request.Context(), accountID(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"keys": list})
}

// createKey issues the account another key, shown in this answer only.
func (h *handlers) createKey(c *gin.Context) {
	km, ok := h.keyManager(c)
	if !ok {
		return
	}
	var req createKeyRequest
	if c.Request.ContentLength != 0 && !bindJSON(c, &req) { // no body: the default label
		return
	}
	if req.Name == "" {
		req.Name = "api"
	}
	k, secret, err := km.CreateKey(c.Request.Context(), accountID(c), req.Name)
	if err != nil {
		fail(c, err)
		return
	}
	requestLog(c).InfoContext(c.Request.Context(), "api key issued", "key_id", k.ID, "key_name", k.Name)
	c.JSON(http.StatusCreated, issuedKey{Key: k, Secret: secret})
}

// revokeKey stops one of the account's keys at once (its next request is
// 401), the calling key included; the account's last active key is kept
// (409 last_key), so a tenant cannot lock itself out of the API. Another
// account's key id is 404; revoking a revoked key is 204 again.
func (h *handlers) revokeKey(c *gin.Context) {
	km, ok := h.keyManager(c)
	if !ok {
		return
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		abortWith(c, http.StatusNotFound, "not_found", "not found")
		return
	}
	k, _, err := km.RevokeKey(c.Request.Context(), accountID(c), id.String(), accounts.RevokeOptions{KeepLast: true})
	if err != nil {
		fail(c, err)
		return
	}
	requestLog(c).InfoContext(c.Request.Context(), "api key revoked", "key_id", k.ID, "key_name", k.Name)
	c.Status(http.StatusNoContent)
}
