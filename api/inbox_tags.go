package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/handoff"
	"github.com/atende/atende/tags"
)

// The inbox's tags: the card's chips (add, remove, as the attendant logged
// in), the queue's tag filter and each line's tags.

// inboxTag adds (add) or removes (remove) a tag on the card's contact, as
// the attendant logged in, and goes back to the card.
func (h *handlers) inboxTag(add bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		sess := session(c)
		if !checkCSRF(c, sess.CSRF) {
			return
		}
		contact, err := uuid.Parse(c.Param("id"))
		if err != nil {
			c.Status(http.StatusNotFound)
			return
		}
		back := "/inbox"
		if card, err := uuid.Parse(c.PostForm("handoff_id")); err == nil {
			back = "/inbox/handoffs/" + card.String()
		}
		ctx, by, tag := c.Request.Context(), tags.Attendant(sess.Attendant.Name), c.PostForm("tag")
		var ch tags.Change
		flash := "Tag removida."
		if add {
			ch, err = h.d.Tags.Add(ctx, sess.AccountID, tags.Contact(contact), tag, by)
			flash = "Tag adicionada."
			if err == nil && !ch.Changed {
				flash = "O cliente já tem a tag " + ch.Tag.Name + "."
			}
		} else {
			_, err = h.d.Tags.Remove(ctx, sess.AccountID, tags.Contact(contact), tag, by)
		}
		switch {
		case errors.Is(err, tags.ErrTooMany):
			c.Redirect(http.StatusSeeOther, back+"?erro="+urlEscape(fmt.Sprintf("O cliente já tem %d tags: remova uma antes de adicionar outra.", tags.MaxPerSubject)))
		case errors.Is(err, tags.ErrInvalid):
			c.Redirect(http.StatusSeeOther, back+"?erro="+urlEscape("Tag inválida: use de 1 a 40 caracteres, sem barra (/) nem caracteres de controle."))
		case err != nil:
			c.Redirect(http.StatusSeeOther, back+"?erro="+urlEscape(userMessage(err)))
		default:
			c.Redirect(http.StatusSeeOther, back+"?ok="+urlEscape(flash))
		}
	}
}

// tagView is what a page shows of tags: the account's tags someone carries
// (the queue's filter, the card's suggestions), the one filtered by, the
// queue lines' tags by card, the card's contact's tags.
type tagView struct {
	Choices []tags.Counted
	Filter  string
	Lines   map[uuid.UUID][]string
	Contact []tags.Tag
}

// queueTags is the queue's tagView: filtered by filter, each card's tags.
func (h *handlers) queueTags(ctx context.Context, accountID uuid.UUID, list []handoff.Handoff, filter string) (tagView, error) {
	v := tagView{Filter: tags.Key(filter)}
	if h.d.Tags == nil {
		return v, nil
	}
	var err error
	if v.Choices, err = h.tagChoices(ctx, accountID, filter); err != nil {
		return v, err
	}
	v.Lines, err = h.lineTags(ctx, accountID, list)
	return v, err
}

// cardTags is the card's tagView: the contact's tags and the suggestions.
func (h *handlers) cardTags(ctx context.Context, accountID, contactID uuid.UUID) (tagView, error) {
	var v tagView
	if h.d.Tags == nil {
		return v, nil
	}
	var err error
	if v.Choices, err = h.tagChoices(ctx, accountID, ""); err != nil {
		return v, err
	}
	v.Contact, err = h.d.Tags.List(ctx, accountID, tags.Contact(contactID))
	return v, err
}

// lineTags is each queue card's tags: its contact's and its conversation's,
// by key, each once.
func (h *handlers) lineTags(ctx context.Context, accountID uuid.UUID, list []handoff.Handoff) (map[uuid.UUID][]string, error) {
	out := map[uuid.UUID][]string{}
	if len(list) == 0 {
		return out, nil
	}
	contacts, conversations := make([]uuid.UUID, 0, len(list)), make([]uuid.UUID, 0, len(list))
	for _, hd := range list {
		contacts, conversations = append(contacts, hd.ContactID), append(conversations, hd.ConversationID)
	}
	ofContact, err := h.d.Tags.OfContacts(ctx, accountID, contacts)
	if err != nil {
		return nil, err
	}
	ofConversation, err := h.d.Tags.OfConversations(ctx, accountID, conversations)
	if err != nil {
		return nil, err
	}
	for _, hd := range list {
		both := append(append([]tags.Tag(nil), ofContact[hd.ContactID]...), ofConversation[hd.ConversationID]...)
		sort.SliceStable(both, func(i, j int) bool { return both[i].Key < both[j].Key })
		for i, t := range both {
			if i == 0 || t.Key != both[i-1].Key {
				out[hd.ID] = append(out[hd.ID], t.Name)
			}
		}
	}
	return out, nil
}

// tagChoices is the account's tags someone carries; the tag filtered by
// (keep) is among them even when nobody carries it, so the filter shows what
// it filters by.
func (h *handlers) tagChoices(ctx context.Context, accountID uuid.UUID, keep string) ([]tags.Counted, error) {
	all, err := h.d.Tags.Catalog(ctx, accountID)
	if err != nil {
		return nil, err
	}
	keepName, keepKey, invalid := tags.Normalize(keep)
	listed := invalid != nil // no filter, or one no tag can match: nothing to keep
	used := all[:0]
	for _, t := range all {
		if t.Contacts+t.Conversations > 0 || t.Key == keepKey {
			used = append(used, t)
			listed = listed || t.Key == keepKey
		}
	}
	if !listed {
		used = append(used, tags.Counted{Name: keepName, Key: keepKey})
	}
	return used, nil
}
