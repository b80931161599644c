package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/atende/atende/reports"
)

// bar is one bar of a server-rendered SVG chart.
type bar struct {
	Label string
	Text  string // the value as written
	Y     int
	Width int
}

// chart is a horizontal bar chart drawn as inline SVG (the CSP allows no
// script or external asset; presentation attributes are not styles).
type chart struct {
	Title  string
	Bars   []bar
	Height int
}

const chartBarArea = 360 // px for the longest bar

func newChart(title string, labels []string, values []float64, text func(float64) string) chart {
	peak := 0.0
	for _, v := range values {
		peak = math.Max(peak, v)
	}
	c := chart{Title: title, Height: 28*len(labels) + 8}
	for i, l := range labels {
		w := 0
		if peak > 0 {
			w = int(math.Round(values[i] / peak * chartBarArea))
		}
		if values[i] > 0 && w < 2 {
			w = 2
		}
		c.Bars = append(c.Bars, bar{Label: l, Text: text(values[i]), Y: 4 + 28*i, Width: w})
	}
	return c
}

// durationLabel writes seconds as the inbox reads them: "42 s", "3 min 5 s", "2 h 10 min".
func durationLabel(s float64) string {
	d := time.Duration(s * float64(time.Second)).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%.1f dias", d.Hours()/24)
}

// figure is one number at a glance.
type figure struct{ Name, Value, Hint string }

func orDash(v *float64, f func(float64) string) string {
	if v == nil {
		return "—"
	}
	return f(*v)
}

func percent(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }

// inboxReports is /inbox/relatorios: the floor's figures for a range of
// days, for admins and team supervisors (the figures compare colleagues).
// ?formato=csv downloads the same by channel as CSV.
func (h *handlers) inboxReports(c *gin.Context) {
	sess := session(c)
	ctx := c.Request.Context()
	lead, err := h.reports.IsLead(ctx, sess.AccountID, sess.Attendant.ID)
	if err != nil {
		fail(c, err)
		return
	}
	if sess.Attendant.Role != "admin" && !lead {
		h.render(c, http.StatusForbidden, "reports.html", gin.H{"S": sess, "Forbidden": true})
		return
	}
	now := h.d.Now()
	today := now.In(saoPaulo)
	de, ate := c.Query("de"), c.Query("ate")
	if ate == "" {
		ate = today.Format("2006-01-02")
	}
	if de == "" {
		de = today.AddDate(0, 0, -29).Format("2006-01-02")
	}
	data := gin.H{"S": sess, "De": de, "Ate": ate}
	// ate is inclusive on the page: the query's to is the next midnight.
	to := ""
	if t, err := time.ParseInLocation("2006-01-02", ate, saoPaulo); err == nil {
		to = t.AddDate(0, 0, 1).Format("2006-01-02")
	} else {
		to = ate
	}
	get := func(by string) func(string) string {
		return func(k string) string {
			return map[string]string{"from": de, "to": to, "by": by}[k]
		}
	}
	q, err := reportQuery(get(reports.ByChannel), now)
	if err != nil {
		data["Error"] = strings.TrimPrefix(err.Error(), reports.ErrInvalid.Error()+": ")
		h.render(c, http.StatusBadRequest, "reports.html", data)
		return
	}
	byChannel, err := h.reports.Summary(ctx, sess.AccountID, q)
	if err != nil && !errors.Is(err, reports.ErrInvalid) {
		fail(c, err)
		return
	}
	if c.Query("formato") == "csv" {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="atende-canais-%s-%s.csv"`, de, ate))
		_ = reports.WriteCSV(c.Writer, byChannel)
		return
	}
	q.By = reports.BySector
	bySector, err := h.reports.Summary(ctx, sess.AccountID, q)
	if err != nil {
		fail(c, err)
		return
	}
	t := byChannel.Total
	seconds := func(v *float64) string { return orDash(v, durationLabel) }
	rate := func(v *float64) string { return orDash(v, percent) }
	data["Figures"] = []figure{
		{"Conversas", fmt.Sprint(t.Conversations), "iniciadas no período"},
		{"Mensagens", fmt.Sprintf("%d recebidas · %d enviadas", t.MessagesIn, t.MessagesOut), ""},
		{"1ª resposta (mediana)", seconds(t.FirstResponseSecondsP50), "p90 " + seconds(t.FirstResponseSecondsP90)},
		{"1ª resposta humana (mediana)", seconds(t.HandoffFirstResponseSecondsP50), "em horário comercial: " + seconds(t.HandoffFirstResponseBusinessSecondsP50)},
		{"TMA", seconds(t.HandlingSecondsAvg), "do início à resolução"},
		{"Resolução (mediana)", seconds(t.ResolveSecondsP50), fmt.Sprintf("%d resolvidas", t.Resolved)},
		{"FCR", rate(t.FCRRate), "sem nova conversa em 7 dias"},
		{"CSAT", orDash(t.CSATAvg, func(v float64) string { return fmt.Sprintf("%.2f / 5", v) }),
			fmt.Sprintf("%d respostas · taxa %s", t.CSATResponses, rate(t.CSATResponseRate))},
		{"SLA de 1ª resposta", rate(t.SLAFirstResponseHitRate), fmt.Sprintf("%d no prazo · %d fora", t.SLAFirstResponseMet, t.SLAFirstResponseMissed)},
		{"Contenção do bot", rate(t.BotContainmentRate), "encerradas sem pessoa"},
		{"Transbordo", rate(t.HandoffRate), fmt.Sprintf("%d cartões · %d transferências de setor", t.Handoffs, t.Transfers)},
	}
	var labels []string
	var values []float64
	for _, g := range byChannel.Groups {
		labels, values = append(labels, channelLabel(g.Key)), append(values, float64(g.Conversations))
	}
	count := func(v float64) string { return fmt.Sprint(int(v)) }
	charts := []chart{newChart("Conversas por canal", labels, values, count)}
	labels, values = nil, nil
	for score := 1; score <= 5; score++ {
		labels = append(labels, fmt.Sprintf("%d ★", score))
		values = append(values, float64(t.CSATDistribution[fmt.Sprint(score)]))
	}
	charts = append(charts, newChart("Distribuição do CSAT", labels, values, count))
	labels, values = nil, nil
	for _, g := range bySector.Groups {
		if g.FirstResponseSecondsP50 == nil {
			continue
		}
		name := sectorLabel(g.Key)
		if g.Key == reports.NoKey {
			name = "sem setor"
		}
		labels, values = append(labels, name), append(values, *g.FirstResponseSecondsP50)
	}
	charts = append(charts, newChart("1ª resposta (mediana) por setor", labels, values, durationLabel))
	data["Charts"] = charts
	type reason struct {
		Label string
		N     int
	}
	var reasons []reason
	for r, n := range t.HandoffsByReason {
		reasons = append(reasons, reason{reasonLabel(r), n})
	}
	sort.Slice(reasons, func(i, j int) bool {
		return reasons[i].N > reasons[j].N || (reasons[i].N == reasons[j].N && reasons[i].Label < reasons[j].Label)
	})
	data["Reasons"] = reasons
	var rows [][]string
	for _, g := range append(byChannel.Groups, t) {
		name := channelLabel(g.Key)
		if g.Key == "total" {
			name = "Total"
		}
		rows = append(rows, []string{name, fmt.Sprint(g.Conversations), seconds(g.FirstResponseSecondsP50), seconds(g.HandlingSecondsAvg),
			rate(g.FCRRate), orDash(g.CSATAvg, func(v float64) string { return fmt.Sprintf("%.2f", v) }), rate(g.SLAFirstResponseHitRate),
			rate(g.BotContainmentRate)})
	}
	data["Rows"] = rows
	data["CSV"] = "/inbox/relatorios?formato=csv&de=" + urlEscape(de) + "&ate=" + urlEscape(ate)
	h.render(c, http.StatusOK, "reports.html", data)
}
