package channels

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Delivery is one webhook request as received: verification needs the exact bytes.
type Delivery struct {
	Header http.Header
	Query  url.Values
	Body   []byte
	Now    time.Time
}

// Open verifies a delivery with the channel's secrets and parses it, through
// the adapter of the channel's kind: ErrBadSignature when it cannot be proven
// to come from the platform, ErrMalformed when it is not the platform's shape.
func (s *Store) Open(ctx context.Context, ch Channel, d Delivery) (Batch, error) {
	a, ok := s.adapters.Adapter(ch.Kind)
	if !ok {
		return Batch{}, noWebhooks(ch.Kind)
	}
	return a.Open(ctx, ch, d, s)
}

// noWebhooks is Open's answer for a kind no platform posts webhooks for.
func noWebhooks(kind Kind) error {
	return fmt.Errorf("%w: %s channels take no platform webhooks", ErrMalformed, kind)
}

// WebhookURL is where a platform must send a channel's webhooks, given the
// server's public base URL.
func WebhookURL(publicBase string, ch Channel) string {
	return strings.TrimRight(publicBase, "/") + "/webhooks/" + string(ch.Kind) + "/" + ch.ID.String()
}
