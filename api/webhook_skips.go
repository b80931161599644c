package api

import (
	"log/slog"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/atende/atende/channels"
)

// maxSkippedLogged bounds how many skipped items one log line names; the
// count is always complete.
const maxSkippedLogged = 10

// webhookMetrics counts the items of webhook deliveries that could not be
// used, by channel kind: the rest of each delivery was stored.
type webhookMetrics struct {
	skipped *prometheus.CounterVec
}

func newWebhookMetrics(reg prometheus.Registerer) *webhookMetrics {
	m := &webhookMetrics{skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "atende_webhook_items_skipped_total",
		Help: "Messages and statuses of webhook deliveries that could not be used (the rest was stored), by channel kind.",
	}, []string{"kind"})}
	reg.MustRegister(m.skipped)
	return m
}

// reportSkipped logs and counts what a delivery could not use. The platform
// was answered 2xx (it must not send the good items again), so this log line
// and the metric are where an operator sees the bad ones.
func (h *handlers) reportSkipped(c *gin.Context, ch channels.Channel, skipped []channels.Skipped) {
	if len(skipped) == 0 {
		return
	}
	h.webhooks.skipped.WithLabelValues(string(ch.Kind)).Add(float64(len(skipped)))
	h.d.Log.LogAttrs(c.Request.Context(), slog.LevelWarn, "webhook items skipped",
		slog.String("request_id", requestID(c)),
		slog.String("channel_id", ch.ID.String()),
		slog.String("kind", string(ch.Kind)),
		slog.Int("count", len(skipped)),
		slog.Any("skipped", skipped[:min(len(skipped), maxSkippedLogged)]),
	)
}
