package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/audit"
	"github.com/atende/atende/handoff"
)

// auditActions names what a route does, in the trail's words; a mutating
// route not named here is recorded by its method and path.
var auditActions = map[string]string{
	"POST /api/v1/contacts":                                 "contact.create",
	"PATCH /api/v1/contacts/:id/fields":                     "contact.fields.update",
	"DELETE /api/v1/contacts/:id":                           "contact.erase",
	"POST /api/v1/contacts/:id/identities":                  "contact.identity.link",
	"POST /api/v1/contacts/:id/merge":                       "contact.merge",
	"POST /api/v1/contacts/:id/unmerge":                     "contact.unmerge",
	"POST /api/v1/contacts/:id/notes":                       "contact.note",
	"POST /api/v1/contacts/:id/messages":                    "message.send",
	"POST /api/v1/contacts/:id/events\\:import":             "contact.history.import",
	"POST /api/v1/channels":                                 "channel.create",
	"POST /api/v1/channels/:id/secrets":                     "channel.secrets.rotate",
	"PUT /api/v1/knowledge":                                 "knowledge.replace",
	"POST /api/v1/prompts/:name/versions":                   "prompt.version.create",
	"POST /api/v1/prompts/:name/versions/:version/activate": "prompt.activate",
	"POST /api/v1/conversations/:id/sector":                 "conversation.reassign",
	"POST /api/v1/conversations/:id/takeover":               "conversation.takeover",
	"POST /api/v1/handoffs/:id/:action":                     "handoff.{action}",
	"PUT /api/v1/attendants":                                "attendant.put",
	"PUT /api/v1/teams":                                     "teams.put",
	"POST /api/v1/webhooks":                                 "webhook.subscribe",
	"DELETE /api/v1/webhooks/:id":                           "webhook.unsubscribe",
	"POST /api/v1/keys":                                     "key.create",
	"DELETE /api/v1/keys/:id":                               "key.revoke",
	"POST /inbox/handoffs/:id/:action":                      "handoff.{action}",
	"POST /inbox/contacts/:id/fields":                       "contact.fields.update",
	"POST /inbox/contacts/:id/claims/merge":                 "contact.merge",
	"POST /inbox/conversations/:id/takeover":                "conversation.takeover",
	"POST /inbox/logout":                                    "logout",
}

// audited records every mutating request of the API and the inbox once it
// is answered: who (the API key or the attendant), what, on which record,
// and whether it went through. Reads are not recorded.
func (h *handlers) audited(c *gin.Context) {
	c.Next()
	if h.d.Audit == nil {
		return
	}
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return
	}
	route := c.FullPath()
	if route == "" {
		return
	}
	action, ok := auditActions[c.Request.Method+" "+route]
	if !ok {
		action = strings.ToLower(c.Request.Method) + " " + route
	}
	action = strings.ReplaceAll(action, "{action}", actionWord(c.Param("action")))
	e := audit.Entry{Action: action, Subject: firstNonEmpty(c.Param("id"), c.Param("name")), Status: c.Writer.Status(),
		Outcome: outcomeOf(c.Writer.Status(), c.Writer.Header().Get("Location")), RequestID: requestID(c)}
	var acct uuid.UUID
	if v, ok := c.Get("caller"); ok {
		caller := v.(accounts.Caller)
		acct, e.ActorKind, e.ActorID, e.ActorName = caller.Account.ID, audit.ActorAPIKey, caller.KeyID.String(), caller.KeyName
	} else if v, ok := c.Get("session"); ok {
		sess := v.(handoff.Session)
		acct, e.ActorKind, e.ActorID, e.ActorName = sess.AccountID, audit.ActorAttendant, sess.Attendant.ID.String(), sess.Attendant.Name
	} else {
		return // refused before anyone was known (no key, no session): the access log has it
	}
	if c.Param("version") != "" {
		e.Detail = map[string]any{"version": c.Param("version")}
	}
	h.record(c, acct, e)
}

// recordLogin records an inbox login and how it went: the e-mail typed,
// never the password.
func (h *handlers) recordLogin(c *gin.Context, acct uuid.UUID, a *handoff.Attendant, outcome audit.Outcome, why string) {
	e := audit.Entry{Action: "login", ActorKind: audit.ActorAttendant, ActorName: strings.TrimSpace(c.PostForm("email")),
		Outcome: outcome, RequestID: requestID(c), Status: http.StatusSeeOther}
	if a != nil {
		e.ActorID, e.ActorName = a.ID.String(), a.Name
	}
	if why != "" {
		e.Detail = map[string]any{"why": why}
	}
	h.record(c, acct, e)
}

func (h *handlers) record(c *gin.Context, acct uuid.UUID, e audit.Entry) {
	if h.d.Audit == nil || acct == uuid.Nil {
		return
	}
	e.At = h.d.Now()
	// recorded even when the client has gone: it happened
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 5*time.Second)
	defer cancel()
	if err := h.d.Audit.Record(ctx, acct, e); err != nil {
		requestLog(c).ErrorContext(ctx, "audit trail", "action", e.Action, "error", err)
	}
}

// outcomeOf reads an answer: 2xx/3xx went through (an inbox form's redirect
// with "erro=" did not), 4xx was refused, 5xx failed.
func outcomeOf(status int, location string) audit.Outcome {
	switch {
	case status >= 500:
		return audit.OutcomeFailed
	case status >= 400 || strings.Contains(location, "erro="):
		return audit.OutcomeRefused
	}
	return audit.OutcomeOK
}

// actionWord is a route's :action as the trail names it: a word of the
// handlers' own (reply, claim…), never whatever text a caller put there.
func actionWord(a string) string {
	if len(a) == 0 || len(a) > 20 {
		return "unknown"
	}
	for _, r := range a {
		if (r < 'a' || r > 'z') && r != '_' {
			return "unknown"
		}
	}
	return a
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// auditFilter reads from, to (YYYY-MM-DD in the team's zone, or RFC 3339),
// actor, action, before and limit.
func auditFilter(c *gin.Context) (audit.Filter, bool) {
	f := audit.Filter{Actor: strings.TrimSpace(c.Query("actor")), Action: strings.TrimSpace(c.Query("action"))}
	for _, p := range []struct {
		name string
		into *time.Time
		day  time.Duration
	}{{"from", &f.From, 0}, {"to", &f.To, 24 * time.Hour}} {
		v := strings.TrimSpace(c.Query(p.name))
		if v == "" {
			continue
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			*p.into = t
			continue
		}
		d, err := time.ParseInLocation(time.DateOnly, v, saoPaulo)
		if err != nil {
			abortWith(c, http.StatusBadRequest, "bad_request", p.name+": want YYYY-MM-DD or an RFC 3339 time, got "+v)
			return f, false
		}
		*p.into = d.Add(p.day) // "to" is the whole day
	}
	limit, ok := intParam(c, "limit", 100, 1, 500)
	if !ok {
		return f, false
	}
	f.Limit = limit
	if v := c.Query("before"); v != "" {
		n, ok := intParam(c, "before", 0, 1, 1<<62)
		if !ok {
			return f, false
		}
		f.Before = int64(n)
	}
	return f, true
}

// listAudit is GET /api/v1/audit: the account's trail, newest first.
func (h *handlers) listAudit(c *gin.Context) {
	if h.d.Audit == nil {
		abortWith(c, http.StatusNotFound, "not_found", "this server keeps no audit trail")
		return
	}
	f, ok := auditFilter(c)
	if !ok {
		return
	}
	list, err := h.d.Audit.List(c.Request.Context(), accountID(c), f)
	if err != nil {
		fail(c, err)
		return
	}
	out := gin.H{"entries": list, "next_before": nil}
	if len(list) == f.Limit {
		out["next_before"] = list[len(list)-1].ID
	}
	c.JSON(http.StatusOK, out)
}

// inboxAudit is the trail for the account's administrators.
func (h *handlers) inboxAudit(c *gin.Context) {
	sess := session(c)
	if sess.Attendant.Role != handoff.RoleAdmin {
		c.Status(http.StatusForbidden)
		h.render(c, http.StatusForbidden, "notfound.html", gin.H{"S": sess})
		return
	}
	f, ok := auditFilter(c)
	if !ok {
		return
	}
	var list []audit.Entry
	if h.d.Audit != nil {
		var err error
		if list, err = h.d.Audit.List(c.Request.Context(), sess.AccountID, f); err != nil {
			fail(c, err)
			return
		}
	}
	h.render(c, http.StatusOK, "audit.html", gin.H{"S": sess, "Entries": list, "Actor": f.Actor, "Action": f.Action,
		"From": c.Query("from"), "To": c.Query("to")})
}

// auditLabels say the trail's actions in the team's words.
var auditLabels = map[string]string{
	"login": "entrou na caixa", "logout": "saiu", "contact.create": "criou contato", "contact.fields.update": "editou campos",
	"contact.erase": "apagou contato (LGPD)", "contact.identity.link": "vinculou identificador", "contact.merge": "uniu contatos",
	"contact.unmerge": "desfez união", "contact.note": "nota interna", "message.send": "enviou mensagem",
	"contact.history.import": "importou histórico", "channel.create": "criou canal", "channel.secrets.rotate": "trocou segredos do canal",
	"knowledge.replace": "atualizou a base de conhecimento", "prompt.version.create": "criou versão de prompt",
	"prompt.activate": "ativou versão de prompt", "conversation.reassign": "mudou o setor", "conversation.takeover": "assumiu conversa do bot",
	"attendant.put": "cadastrou atendente", "teams.put": "alterou equipes", "webhook.subscribe": "criou webhook",
	"webhook.unsubscribe": "removeu webhook", "key.create": "criou chave de API", "key.revoke": "revogou chave de API",
	"handoff.reply": "respondeu", "handoff.note": "nota no cartão", "handoff.claim": "assumiu cartão", "handoff.reassign": "reatribuiu cartão",
	"handoff.handback": "devolveu ao assistente", "handoff.resolve": "resolveu atendimento",
}

func auditLabel(action string) string {
	if l, ok := auditLabels[action]; ok {
		return l
	}
	return action
}

func outcomeLabel(o audit.Outcome) string {
	return map[audit.Outcome]string{audit.OutcomeOK: "feito", audit.OutcomeRefused: "recusado", audit.OutcomeFailed: "falhou"}[o]
}
