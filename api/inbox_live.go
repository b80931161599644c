package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/conversations"
)

// liveWindow is how recent a bot conversation's last message must be to be
// "live": older ones are waiting on the customer, not on the bot.
const liveWindow = 2 * time.Hour

// liveRow is one conversation the bot is handling, as the supervisor sees it.
type liveRow struct {
	ID          uuid.UUID `json:"conversation_id"`
	ContactID   uuid.UUID `json:"contact_id"`
	ContactName string    `json:"contact_name,omitempty"`
	Channel     string    `json:"channel,omitempty"`
	Sector      string    `json:"sector,omitempty"`
	LastText    string    `json:"last_message,omitempty"`
	LastByBot   bool      `json:"last_by_bot"`
	// Confidence is the last routing decision's, 0–100 (-1: none yet).
	Confidence    int           `json:"confidence"`
	StartedAt     time.Time     `json:"started_at"`
	LastMessageAt time.Time     `json:"last_message_at"`
	Since         time.Duration `json:"-"`
	Idle          time.Duration `json:"-"`
}

// liveRows are the conversations the bot holds now, with what was last said
// and how sure the bot was.
func (h *handlers) liveRows(ctx context.Context, account uuid.UUID) ([]liveRow, error) {
	list, err := h.d.Conversations.Live(ctx, account, liveWindow, 100)
	if err != nil {
		return nil, err
	}
	now := h.d.Now()
	rows := make([]liveRow, 0, len(list))
	for _, l := range list {
		row := liveRow{ID: l.ID, ContactID: l.ContactID, Channel: l.LastChannel, Sector: l.Sector, Confidence: -1,
			StartedAt: l.StartedAt, LastMessageAt: l.LastMessageAt, Since: now.Sub(l.StartedAt), Idle: now.Sub(l.LastMessageAt)}
		if contact, err := h.d.Memory.Contact(ctx, account, l.ContactID); err == nil {
			row.ContactName = contact.DisplayName
		}
		if msgs, err := h.d.Memory.ConversationMessages(ctx, account, l.ID, 1); err == nil && len(msgs) == 1 {
			row.LastText, row.LastByBot = clipRunes(msgs[0].Text, 140), msgs[0].Direction == "out"
		}
		if d, ok, err := h.d.Memory.LastDecision(ctx, account, l.ID); err == nil && ok {
			var p struct {
				Confidence float64 `json:"confidence"`
				Sector     string  `json:"sector"`
			}
			if json.Unmarshal(d.Payload, &p) == nil {
				row.Confidence = int(p.Confidence*100 + 0.5)
				if row.Sector == "" {
					row.Sector = p.Sector
				}
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// inboxLive is "o bot, ao vivo": the conversations the bot holds right now,
// with a button to take one over before the customer has to ask.
func (h *handlers) inboxLive(c *gin.Context) {
	sess := session(c)
	rows, err := h.liveRows(c.Request.Context(), sess.AccountID)
	if err != nil {
		fail(c, err)
		return
	}
	h.render(c, http.StatusOK, "live.html", gin.H{"S": sess, "Rows": rows, "Window": liveWindow})
}

// liveConversations is GET /api/v1/conversations/live: the same list for a
// supervisor's dashboard or an automation (take over with POST
// /api/v1/conversations/{id}/takeover).
func (h *handlers) liveConversations(c *gin.Context) {
	rows, err := h.liveRows(c.Request.Context(), accountID(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"conversations": rows, "window_seconds": int(liveWindow.Seconds())})
}

// inboxTakeOver is the live view's button: a card owned by the supervisor
// opens for the conversation, and the bot stays silent from then on.
func (h *handlers) inboxTakeOver(c *gin.Context) {
	sess := session(c)
	if !checkCSRF(c, sess.CSRF) {
		return
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	card, err := h.d.Handoffs.TakeOver(c.Request.Context(), sess.AccountID, id, sess.Attendant)
	if errors.Is(err, conversations.ErrNotFound) {
		h.render(c, http.StatusNotFound, "notfound.html", gin.H{"S": sess})
		return
	}
	if err != nil {
		c.Redirect(http.StatusSeeOther, "/inbox/bot?erro="+urlEscape(userMessage(err)))
		return
	}
	c.Redirect(http.StatusSeeOther, "/inbox/handoffs/"+card.ID.String()+"?ok="+urlEscape("Você assumiu a conversa; o assistente não responde mais."))
}

// agoLabel writes a duration as the inbox says it: "agora", "4 min", "2 h".
func agoLabel(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "agora"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	}
	return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
}

// clipRunes cuts s to n runes with an ellipsis.
func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
