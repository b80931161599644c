package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
)

// claimRow is an identifier a visitor typed in the webchat that belongs to
// another contact: the card shows it as unverified, with who holds it, and
// offers the attendant the merge.
type claimRow struct {
	Field, Label, Value string
	OwnerID             uuid.UUID
	OwnerName           string
}

// claimsOf are the contact's unverified claims whose identifier another
// live contact holds.
func (h *handlers) claimsOf(ctx context.Context, accountID uuid.UUID, c memory.Contact) []claimRow {
	var out []claimRow
	for _, field := range []string{memory.FieldClaimedEmail, memory.FieldClaimedPhone} {
		v, ok := c.Fields.Get(field)
		kind, _ := memory.ClaimKind(field)
		value, _ := v.(string)
		if !ok || value == "" {
			continue
		}
		owner, err := h.d.Memory.FindByIdentity(ctx, accountID, memory.Identity{Kind: kind, Value: value})
		if err != nil || owner.ID == c.ID {
			continue
		}
		out = append(out, claimRow{Field: field, Label: fieldLabel(field), Value: value, OwnerID: owner.ID, OwnerName: owner.DisplayName})
	}
	return out
}

// inboxMergeClaim is the attendant's one-click decision that the visitor who
// typed someone's e-mail or phone is that person: the visitor's contact is
// folded into the holder's (a recorded merge, undoable like any other,
// naming the attendant), and the claim is cleared.
func (h *handlers) inboxMergeClaim(c *gin.Context) {
	sess := session(c)
	if !checkCSRF(c, sess.CSRF) {
		return
	}
	contactID, err := uuid.Parse(c.Param("id"))
	if err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	back := "/inbox/handoffs/" + c.PostForm("handoff_id")
	ctx := c.Request.Context()
	// Merging people is the card owner's decision, or an admin's.
	cardID, err := uuid.Parse(c.PostForm("handoff_id"))
	if err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	card, err := h.d.Handoffs.Get(ctx, sess.AccountID, cardID)
	if err != nil {
		fail(c, err)
		return
	}
	mine := card.OwnerID != nil && *card.OwnerID == sess.Attendant.ID
	if card.ContactID != contactID || (!mine && sess.Attendant.Role != handoff.RoleAdmin) {
		c.Redirect(http.StatusSeeOther, back+"?erro="+urlEscape("Só quem atende o cartão, ou um administrador, pode unir os contatos."))
		return
	}
	contact, err := h.d.Memory.Contact(ctx, sess.AccountID, contactID)
	if err != nil {
		fail(c, err)
		return
	}
	var claim *claimRow
	for _, cl := range h.claimsOf(ctx, sess.AccountID, contact) {
		if cl.Field == c.PostForm("field") {
			claim = &cl
		}
	}
	if claim == nil {
		c.Redirect(http.StatusSeeOther, back+"?erro="+urlEscape("Nada a unir: o dado informado não pertence a outro contato."))
		return
	}
	reason := fmt.Sprintf("%s confirmed in the inbox that the webchat visitor who typed %s %s is this person", sess.Attendant.Email, claim.Field, claim.Value)
	err = database.InTx(ctx, h.d.Pool, func(tx pgx.Tx) error {
		if _, err := h.d.Memory.UpdateFieldsTx(ctx, tx, sess.AccountID, contactID, map[string]any{claim.Field: nil}, memory.AuthorHuman, nil); err != nil {
			return err
		}
		_, err := h.d.Memory.MergeTx(ctx, tx, sess.AccountID, claim.OwnerID, contactID, memory.AuthorHuman, reason)
		return err
	})
	if err != nil {
		c.Redirect(http.StatusSeeOther, back+"?erro="+urlEscape(userMessage(err)))
		return
	}
	requestLog(c).InfoContext(ctx, "webchat claim merged", "attendant", sess.Attendant.ID, "survivor", claim.OwnerID, "merged", contactID, "field", claim.Field)
	c.Redirect(http.StatusSeeOther, back+"?ok="+urlEscape("Contatos unidos: "+claim.OwnerName+"."))
}
