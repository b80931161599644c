package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/audit"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/memory"
)

// AccountFinder finds an account by slug (the inbox login names its company).
type AccountFinder interface {
	BySlug(ctx context.Context, slug string) (accounts.Account, error)
}

// inboxPageSet is the inbox's templates as parsed, never executed: html/template
// clones only templates that have not run, and a page in another time zone
// is a clone with its own clock (see render).
var inboxPageSet = template.Must(template.New("inbox").Funcs(template.FuncMap{
	"reason":     reasonLabel,
	"author":     authorLabel,
	"kindLabel":  kindLabel,
	"clock":      func(t time.Time) string { return t.In(saoPaulo).Format("02/01 15:04") },
	"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"field":      fieldLabel,
	"str":        func(v any) string { return fmt.Sprint(v) },
	"status":     statusLabel,
	"prio":       priorityLabel,
	"channel":    channelLabel,
	"size":       sizeLabel,
	"seconds":    secondsLabel,
	"mediaNoun":  mediaNoun,
	"sector":     sectorLabel,
	"ago":        agoLabel,
	"auditLabel": auditLabel,
	"outcome":    outcomeLabel,
}).ParseFS(webFiles, "web/inbox/*.html"))

// inboxPages is the set pages are rendered with in São Paulo's time.
var inboxPages = template.Must(inboxPageSet.Clone())

var saoPaulo = func() *time.Location {
	if l, err := time.LoadLocation("America/Sao_Paulo"); err == nil {
		return l
	}
	return time.UTC
}()

func (h *handlers) render(c *gin.Context, status int, page string, data gin.H) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Header("X-Frame-Options", "DENY")
	c.Header("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:")
	c.Status(status)
	pages := inboxPages
	if sess, ok := data["S"].(handoff.Session); ok && sess.Attendant.ID != uuid.Nil && h.d.Handoffs != nil {
		// every time on the page in the team's time zone
		loc := h.d.Handoffs.TimeZoneOf(c.Request.Context(), sess.AccountID, sess.Attendant.ID)
		if loc.String() != saoPaulo.String() {
			if clone, err := inboxPageSet.Clone(); err == nil {
				pages = clone.Funcs(template.FuncMap{"clock": func(t time.Time) string { return t.In(loc).Format("02/01 15:04") }})
			}
		}
	}
	if err := pages.ExecuteTemplate(c.Writer, page, data); err != nil {
		requestLog(c).ErrorContext(c.Request.Context(), "render inbox page", "page", page, "error", err)
	}
}

func serveInboxAsset(c *gin.Context) {
	name := path.Base(c.Request.URL.Path)
	raw, err := fs.ReadFile(webFiles, "web/inbox/"+name)
	if err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	kind := "text/css; charset=utf-8"
	if strings.HasSuffix(name, ".js") {
		kind = "application/javascript; charset=utf-8"
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, kind, raw)
}

// inboxLoginPage shows the login form with a fresh double-submit CSRF token.
func (h *handlers) inboxLoginPage(c *gin.Context) {
	token := randomToken()
	h.setCookie(c, loginCSRFCookie, token, 600)
	h.render(c, http.StatusOK, "login.html", gin.H{"CSRF": token, "Next": safeNext(c.Query("next")), "Account": c.DefaultQuery("empresa", "demo"), "Error": c.Query("erro")})
}

// inboxLogin checks the password and starts a session.
func (h *handlers) inboxLogin(c *gin.Context) {
	cookie, _ := c.Cookie(loginCSRFCookie)
	if !checkCSRF(c, cookie) {
		return
	}
	refuse := func() {
		c.Redirect(http.StatusSeeOther, "/inbox/login?erro=1&empresa="+urlEscape(c.PostForm("empresa"))+"&next="+urlEscape(c.PostForm("next")))
	}
	acct, err := h.d.Accounts.BySlug(c.Request.Context(), strings.TrimSpace(c.PostForm("empresa")))
	if err != nil {
		refuse()
		return
	}
	a, err := h.d.Handoffs.Login(c.Request.Context(), acct.ID, c.PostForm("email"), c.PostForm("senha"))
	if errors.Is(err, handoff.ErrLockedOut) {
		h.recordLogin(c, acct.ID, nil, audit.OutcomeRefused, "locked out after repeated failures")
		c.Redirect(http.StatusSeeOther, "/inbox/login?erro=bloqueado&empresa="+urlEscape(c.PostForm("empresa"))+"&next="+urlEscape(c.PostForm("next")))
		return
	}
	if err != nil {
		h.recordLogin(c, acct.ID, nil, audit.OutcomeRefused, "wrong e-mail or password")
		refuse()
		return
	}
	h.recordLogin(c, acct.ID, &a, audit.OutcomeOK, "")
	token, _, err := h.d.Handoffs.StartSession(c.Request.Context(), acct.ID, a)
	if err != nil {
		fail(c, err)
		return
	}
	h.setCookie(c, loginCSRFCookie, "", -1)
	h.setCookie(c, sessionCookie, token, sessionCookieAge)
	c.Redirect(http.StatusSeeOther, safeNext(c.PostForm("next")))
}

func (h *handlers) inboxLogout(c *gin.Context) {
	if !checkCSRF(c, session(c).CSRF) {
		return
	}
	token, _ := c.Cookie(sessionCookie)
	_ = h.d.Handoffs.EndSession(c.Request.Context(), token)
	h.setCookie(c, sessionCookie, "", -1)
	c.Redirect(http.StatusSeeOther, "/inbox/login")
}

// inboxQueue is the queue: open cards by SLA due time, filtered by sector and owner.
func (h *handlers) inboxQueue(c *gin.Context) {
	sess := session(c)
	f := handoff.Filter{Status: c.DefaultQuery("status", "open"), Sector: c.Query("setor"), Tag: c.Query("tag"), Limit: 200}
	owner := c.DefaultQuery("dono", "todos")
	if owner == "eu" {
		f.OwnerID = &sess.Attendant.ID
	}
	list, err := h.d.Handoffs.List(c.Request.Context(), sess.AccountID, f)
	if err != nil {
		fail(c, err)
		return
	}
	if owner == "fila" {
		queued := list[:0]
		for _, hd := range list {
			if hd.OwnerID == nil {
				queued = append(queued, hd)
			}
		}
		list = queued
	}
	sectors := map[string]bool{}
	for _, hd := range list {
		if hd.Sector != "" {
			sectors[hd.Sector] = true
		}
	}
	names := make([]string, 0, len(sectors))
	for s := range sectors {
		names = append(names, s)
	}
	sort.Strings(names)
	tagView, err := h.queueTags(c.Request.Context(), sess.AccountID, list, f.Tag)
	if err != nil {
		fail(c, err)
		return
	}
	h.render(c, http.StatusOK, "queue.html", gin.H{"S": sess, "Handoffs": list, "Sector": f.Sector, "Owner": owner, "Status": f.Status,
		"Sectors": names, "Now": time.Now(), "Tags": tagView})
}

// channelChoice is a channel the reply may leave through.
type channelChoice struct {
	ID       uuid.UUID
	Label    string
	Selected bool
	Warning  string
}

// inboxCard is one card: the card, the whole timeline, fields, reply box.
func (h *handlers) inboxCard(c *gin.Context) {
	sess := session(c)
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	ctx := c.Request.Context()
	card, err := h.d.Handoffs.Get(ctx, sess.AccountID, id)
	if errors.Is(err, handoff.ErrNotFound) {
		h.render(c, http.StatusNotFound, "notfound.html", gin.H{"S": sess})
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	contact, err := h.d.Memory.Contact(ctx, sess.AccountID, card.ContactID)
	if err != nil {
		fail(c, err)
		return
	}
	events, err := h.d.Memory.RecentTimeline(ctx, sess.AccountID, card.ContactID, 300)
	if err != nil {
		fail(c, err)
		return
	}
	files, err := h.mediaOf(ctx, sess.AccountID, events)
	if err != nil {
		fail(c, err)
		return
	}
	tagView, err := h.cardTags(ctx, sess.AccountID, card.ContactID)
	if err != nil {
		fail(c, err)
		return
	}
	choices := h.channelChoices(ctx, sess.AccountID, events)
	attendants, err := h.d.Handoffs.Attendants(ctx, sess.AccountID)
	if err != nil {
		fail(c, err)
		return
	}
	h.render(c, http.StatusOK, "card.html", gin.H{"S": sess, "H": card, "Contact": contact, "Events": timelineRows(events, files), "Channels": choices,
		"Attendants": attendants, "Fields": editableFields(contact), "Claims": h.claimsOf(ctx, sess.AccountID, contact), "Tags": tagView, "Open": card.Status == handoff.StatusQueued || card.Status == handoff.StatusAssigned,
		"Mine": card.OwnerID != nil && *card.OwnerID == sess.Attendant.ID, "Flash": c.Query("ok"), "Error": c.Query("erro")})
}

// channelChoices are the channels the contact wrote from, the last one
// selected, each with its messaging-window warning.
func (h *handlers) channelChoices(ctx context.Context, accountID uuid.UUID, events []memory.Event) []channelChoice {
	lastIn := map[uuid.UUID]time.Time{}
	var order []uuid.UUID
	for _, e := range events {
		if e.Kind != memory.EventMessage || e.Direction != memory.DirectionIn {
			continue
		}
		var p struct {
			ChannelID uuid.UUID `json:"channel_id"`
		}
		if json.Unmarshal(e.Payload, &p) != nil || p.ChannelID == uuid.Nil {
			continue
		}
		if _, seen := lastIn[p.ChannelID]; !seen {
			order = append(order, p.ChannelID)
		}
		lastIn[p.ChannelID] = e.OccurredAt
	}
	var out []channelChoice
	var latest time.Time
	for _, id := range order {
		ch, err := h.d.Channels.Get(ctx, accountID, id)
		if err != nil {
			continue
		}
		choice := channelChoice{ID: id, Label: channelLabel(string(ch.Kind)) + " · " + ch.Name}
		if rules, err := channels.RulesFor(ch); err == nil && rules.Window > 0 {
			since := time.Since(lastIn[id])
			switch {
			case since > rules.Window && rules.WindowTemplate != "":
				choice.Warning = fmt.Sprintf("Janela de %s fechada: a mensagem sai como o template aprovado %q.", humanWindow(rules.Window), rules.WindowTemplate)
			case since > rules.Window+rules.HumanWindow && rules.HumanWindow > 0:
				choice.Warning = "Janela de atendimento humano encerrada: o Instagram não entrega mensagens agora."
			case since > rules.Window && rules.HumanWindow > 0:
				choice.Warning = "Fora das 24 h: a resposta sai com a tag de atendimento humano (até 7 dias)."
			case since > rules.Window:
				choice.Warning = "Janela de mensagens fechada neste canal."
			}
		}
		if lastIn[id].After(latest) {
			latest = lastIn[id]
			for i := range out {
				out[i].Selected = false
			}
			choice.Selected = true
		}
		out = append(out, choice)
	}
	return out
}

func humanWindow(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return d.String()
}

// inboxAct runs a card action from the inbox's forms.
func (h *handlers) inboxAct(c *gin.Context) {
	sess := session(c)
	if !checkCSRF(c, sess.CSRF) {
		return
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	ctx, svc, acct := c.Request.Context(), h.d.Handoffs, sess.AccountID
	back := "/inbox/handoffs/" + id.String()
	flash := ""
	action := c.Param("action")
	if action == "claim" || action == "reassign" {
		// An agent takes queued cards and passes on their own; taking a
		// colleague's card is an admin's call.
		card, err := svc.Get(ctx, acct, id)
		if err != nil {
			fail(c, err)
			return
		}
		if card.OwnerID != nil && *card.OwnerID != sess.Attendant.ID && sess.Attendant.Role != handoff.RoleAdmin {
			c.Redirect(http.StatusSeeOther, back+"?erro="+urlEscape("Este cartão é de "+card.OwnerName+": só um administrador pode tirá-lo dele."))
			return
		}
	}
	switch action {
	case "reply":
		var ch *uuid.UUID
		if v := c.PostForm("channel_id"); v != "" {
			if parsed, err := uuid.Parse(v); err == nil {
				ch = &parsed
			}
		}
		file, blob, ferr := h.replyFile(c)
		if err = ferr; err != nil {
			break
		}
		var files []memory.Media
		if file != nil {
			files = append(files, *file)
		}
		var sent memory.Event
		if sent, err = svc.Reply(ctx, acct, id, sess.Attendant, c.PostForm("text"), ch, files...); err == nil && file != nil {
			h.recordSent(c, acct, sent, *file, *blob)
		}
		flash = "Resposta enviada."
	case "note":
		_, err = svc.Note(ctx, acct, id, sess.Attendant, c.PostForm("text"))
		flash = "Nota registrada."
	case "claim":
		_, err = svc.Claim(ctx, acct, id, sess.Attendant)
		flash = "Cartão assumido."
	case "reassign":
		var to *uuid.UUID
		if v := c.PostForm("to"); v != "" && v != "fila" {
			if parsed, perr := uuid.Parse(v); perr == nil {
				to = &parsed
			}
		}
		_, err = svc.Reassign(ctx, acct, id, sess.Attendant, to)
		flash = "Cartão reatribuído."
	case "handback":
		_, err = svc.HandBack(ctx, acct, id, sess.Attendant, c.PostForm("note"))
		back, flash = "/inbox", "Conversa devolvida ao assistente."
	case "resolve":
		_, err = svc.Resolve(ctx, acct, id, sess.Attendant)
		back, flash = "/inbox", "Atendimento resolvido; pesquisa de satisfação enviada."
	default:
		c.Status(http.StatusNotFound)
		return
	}
	if err != nil {
		if errors.Is(err, handoff.ErrInvalid) || errors.Is(err, handoff.ErrClosed) || errors.Is(err, handoff.ErrNotFound) || errors.Is(err, channels.ErrNotFound) ||
			errors.Is(err, handoff.ErrForbidden) {
			c.Redirect(http.StatusSeeOther, "/inbox/handoffs/"+id.String()+"?erro="+urlEscape(userMessage(err)))
			return
		}
		fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, back+"?ok="+urlEscape(flash))
}

// inboxFields saves the fields panel.
func (h *handlers) inboxFields(c *gin.Context) {
	sess := session(c)
	if !checkCSRF(c, sess.CSRF) {
		return
	}
	handoffID := c.PostForm("handoff_id")
	contact, err := uuid.Parse(c.Param("id"))
	if err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	current, err := h.d.Memory.Contact(c.Request.Context(), sess.AccountID, contact)
	if err != nil {
		fail(c, err)
		return
	}
	known := current.Fields.Map()
	changes := map[string]any{}
	for _, f := range editable() {
		v := strings.TrimSpace(c.PostForm(f))
		if v != "" && fmt.Sprint(known[f]) != v {
			changes[f] = v
		}
	}
	back := "/inbox/handoffs/" + handoffID
	if len(changes) > 0 {
		err = database.InTx(c.Request.Context(), h.d.Pool, func(tx pgx.Tx) error {
			_, err := h.d.Memory.UpdateFieldsTx(c.Request.Context(), tx, sess.AccountID, contact, changes, memory.AuthorHuman, nil)
			return err
		})
		if err != nil {
			c.Redirect(http.StatusSeeOther, back+"?erro="+urlEscape(userMessage(err)))
			return
		}
	}
	c.Redirect(http.StatusSeeOther, back+"?ok="+urlEscape("Dados salvos."))
}

// inboxEvents is the SSE stream that tells open pages something changed in
// the account (a message, a card), so they refresh their live parts.
func (h *handlers) inboxEvents(c *gin.Context) {
	sess := session(c)
	wake, stop := h.d.Hub.Subscribe(channels.InboxTopic(sess.AccountID))
	defer stop()
	c.Header("Content-Type", "text/event-stream")
	c.Header("Cache-Control", "no-store")
	c.Header("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	fmt.Fprint(c.Writer, "retry: 2000\n\n")
	c.Writer.Flush()
	beat := time.NewTicker(25 * time.Second)
	defer beat.Stop()
	for {
		select {
		case <-c.Request.Context().Done():
			return
		case <-wake:
			fmt.Fprintf(c.Writer, "event: change\ndata: %d\n\n", time.Now().UnixMilli())
		case <-beat.C:
			fmt.Fprint(c.Writer, ": ping\n\n")
		}
		c.Writer.Flush()
	}
}

// userMessage says in the inbox's words why an action was refused.
func userMessage(err error) string {
	detail := err.Error()
	if i := strings.LastIndex(detail, ": "); i >= 0 {
		detail = detail[i+2:]
	}
	switch {
	case errors.Is(err, handoff.ErrClosed):
		return "Este cartão já foi encerrado (resolvido ou devolvido ao assistente)."
	case errors.Is(err, handoff.ErrNotFound):
		return "Cartão ou atendente não encontrado."
	case errors.Is(err, channels.ErrNotFound):
		return "Canal não encontrado."
	case errors.Is(err, handoff.ErrForbidden):
		return "Este cartão é de um colega: só um administrador pode fazer isso."
	}
	return "Não foi possível: " + detail
}
