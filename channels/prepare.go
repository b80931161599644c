package channels

import (
	"fmt"
	"strings"
	"time"

	"github.com/atende/atende/internal/sanitize"
	"github.com/atende/atende/memory"
)

// earliestMessage is the oldest timestamp a platform's message is believed:
// before it (0, a negative number, milliseconds read as seconds the wrong
// way) the arrival time is used instead.
var earliestMessage = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// latestSkew is how far in the future a platform's clock may be.
const latestSkew = 24 * time.Hour

// prepareInbound makes a parsed message storable whatever the platform sent:
// every string is made valid UTF-8 without NUL (PostgreSQL's text and jsonb
// refuse both), a timestamp no database would take becomes the arrival time,
// and identities are checked as the memory will check them. A message that
// still cannot be stored (no id, no usable sender) is an error: it is skipped,
// and the rest of its delivery is stored.
func prepareInbound(m Inbound, now time.Time) (Inbound, error) {
	sanitize.Strings(&m)
	m.At = saneTime(m.At, now)
	if strings.TrimSpace(m.ExternalID) == "" {
		return Inbound{}, fmt.Errorf("%w: message without id", ErrMalformed)
	}
	ids := m.From.Identities[:0:0]
	for _, id := range m.From.Identities {
		if norm, err := memory.NormalizeIdentity(id.Kind, id.Value); err == nil {
			ids = append(ids, norm)
		}
	}
	if len(ids) == 0 {
		return Inbound{}, fmt.Errorf("%w: message %s has no usable sender", ErrMalformed, m.ExternalID)
	}
	m.From.Identities = ids
	return m, nil
}

// prepareStatus is prepareInbound for a delivery status.
func prepareStatus(s Status, now time.Time) (Status, error) {
	sanitize.Strings(&s)
	s.At = saneTime(s.At, now)
	if strings.TrimSpace(s.ExternalID) == "" {
		return Status{}, fmt.Errorf("%w: %s status without a message id", ErrMalformed, s.Status)
	}
	return s, nil
}

// prepareAnnotation is prepareInbound for an annotation: it needs the
// message it is about, and a sender only when that message is unknown.
func prepareAnnotation(a Annotation, now time.Time) (Annotation, error) {
	sanitize.Strings(&a)
	a.At = saneTime(a.At, now)
	if strings.TrimSpace(a.Target) == "" && a.Kind != AnnotationReaction {
		return Annotation{}, fmt.Errorf("%w: %s without the message it is about", ErrMalformed, a.Kind)
	}
	ids := a.From.Identities[:0:0]
	for _, id := range a.From.Identities {
		if norm, err := memory.NormalizeIdentity(id.Kind, id.Value); err == nil {
			ids = append(ids, norm)
		}
	}
	a.From.Identities = ids
	return a, nil
}

// saneTime keeps a platform's timestamp when it can be one, else zero (the
// memory then uses the arrival time).
func saneTime(at, now time.Time) time.Time {
	if at.IsZero() || at.Before(earliestMessage) || at.After(now.Add(latestSkew)) {
		return time.Time{}
	}
	return at
}
