package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/atende/atende/reports"
)

// defaultReportDays is the range a report covers when from is not given.
const defaultReportDays = 30

// reportQuery reads from, to, by and tz: dates as YYYY-MM-DD at midnight in
// tz (America/Sao_Paulo by default), or RFC3339 instants; to is exclusive.
// Without to the range ends tonight at midnight (today included); without
// from it starts 30 days before to.
func reportQuery(get func(string) string, now time.Time) (reports.Query, error) {
	q := reports.Query{By: get("by"), Tag: get("tag"), Now: now}
	if q.By == "" {
		q.By = reports.ByNone
	}
	loc := saoPaulo
	if tz := get("tz"); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return q, fmt.Errorf("%w: tz %q is not a time zone (like America/Sao_Paulo)", reports.ErrInvalid, tz)
		}
		loc = l
	}
	var err error
	if s := get("to"); s != "" {
		if q.To, err = parseReportDate(s, loc); err != nil {
			return q, fmt.Errorf("%w: to: %v", reports.ErrInvalid, err)
		}
	} else {
		d := now.In(loc)
		q.To = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
	}
	if s := get("from"); s != "" {
		if q.From, err = parseReportDate(s, loc); err != nil {
			return q, fmt.Errorf("%w: from: %v", reports.ErrInvalid, err)
		}
	} else {
		q.From = q.To.AddDate(0, 0, -defaultReportDays)
	}
	return q, q.Validate()
}

func parseReportDate(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither YYYY-MM-DD nor RFC3339", s)
}

// reportSummary is GET /api/v1/reports/summary: the account's figures for a
// range, grouped, as JSON or (format=csv) CSV.
func (h *handlers) reportSummary(c *gin.Context) {
	q, err := reportQuery(c.Query, h.d.Now())
	if err != nil {
		abortWith(c, http.StatusBadRequest, "bad_request", strings.TrimPrefix(err.Error(), reports.ErrInvalid.Error()+": "))
		return
	}
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "csv" {
		abortWith(c, http.StatusBadRequest, "bad_request", "format must be json or csv")
		return
	}
	r, err := h.reports.Summary(c.Request.Context(), accountID(c), q)
	if errors.Is(err, reports.ErrInvalid) {
		abortWith(c, http.StatusBadRequest, "bad_request", strings.TrimPrefix(err.Error(), reports.ErrInvalid.Error()+": "))
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	if format == "csv" {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="atende-%s-%s-%s.csv"`, q.By,
			q.From.Format("20060102"), q.To.Format("20060102")))
		c.Status(http.StatusOK)
		if err := reports.WriteCSV(c.Writer, r); err != nil {
			requestLog(c).ErrorContext(c.Request.Context(), "write report csv", "error", err)
		}
		return
	}
	c.JSON(http.StatusOK, r)
}
