package channels

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/atende/atende/memory"
)

// Delivery is one webhook request as received: verification needs the exact bytes.
type Delivery struct {
	Header http.Header
	Query  url.Values
	Body   []byte
	Now    time.Time
}

// mailgunMaxAge is how far a Mailgun timestamp may be from now.
const mailgunMaxAge = 5 * time.Minute

// chatwootMaxAge is how far a Chatwoot timestamp may be from now.
const chatwootMaxAge = 5 * time.Minute

// maxFormMemory bounds the in-memory part of a multipart e-mail form.
const maxFormMemory = 32 << 20

// Open verifies a delivery with the channel's secrets and parses it:
// ErrBadSignature when it cannot be proven to come from the platform,
// ErrMalformed when it is not the platform's shape.
func (s *Store) Open(ctx context.Context, ch Channel, d Delivery) (Batch, error) {
	switch ch.Kind {
	case KindWhatsApp:
		if err := VerifyMetaSignature(ch.Secret("app_secret"), d.Body, d.Header.Get("X-Hub-Signature-256")); err != nil {
			return Batch{}, err
		}
		return ParseWhatsAppCloud(d.Body)
	case KindInstagram:
		if err := VerifyMetaSignature(ch.Secret("app_secret"), d.Body, d.Header.Get("X-Hub-Signature-256")); err != nil {
			return Batch{}, err
		}
		return ParseInstagram(d.Body)
	case KindTelegram:
		if err := VerifyTelegramSecret(ch.Secret("secret_token"), d.Header.Get("X-Telegram-Bot-Api-Secret-Token")); err != nil {
			return Batch{}, err
		}
		return ParseTelegram(d.Body)
	case KindEvolution:
		if err := verifyEvolution(ch.Secret("apikey"), d); err != nil {
			return Batch{}, err
		}
		return ParseEvolution(d.Body)
	case KindEmail:
		return s.openEmail(ctx, ch, d)
	case KindChatwoot:
		if err := VerifyChatwootSignature(ch.Secret("webhook_secret"), d.Body, d.Header.Get("X-Chatwoot-Signature"),
			d.Header.Get("X-Chatwoot-Timestamp"), d.Now, chatwootMaxAge); err != nil {
			return Batch{}, err
		}
		return ParseChatwoot(d.Body)
	default:
		return Batch{}, fmt.Errorf("%w: %s channels take no platform webhooks", ErrMalformed, ch.Kind)
	}
}

// verifyEvolution accepts the instance's apikey in the apikey header (set as a
// custom webhook header in Evolution) or in the body's apikey field (sent when
// the instance exposes it).
func verifyEvolution(apikey string, d Delivery) error {
	if apikey == "" {
		return fmt.Errorf("%w: channel has no apikey", ErrBadSignature)
	}
	given := d.Header.Get("apikey")
	if given == "" {
		var env struct {
			APIKey *string `json:"apikey"`
		}
		if json.Unmarshal(d.Body, &env) == nil && env.APIKey != nil {
			given = *env.APIKey
		}
	}
	if given == "" {
		return fmt.Errorf("%w: missing apikey", ErrBadSignature)
	}
	if subtle.ConstantTimeCompare([]byte(given), []byte(apikey)) != 1 {
		return fmt.Errorf("%w: apikey does not match", ErrBadSignature)
	}
	return nil
}

func (s *Store) openEmail(ctx context.Context, ch Channel, d Delivery) (Batch, error) {
	provider := ch.Settings["provider"]
	if provider == EmailPostmark {
		if err := verifyInboundToken(ch, d); err != nil {
			return Batch{}, err
		}
		return ParsePostmarkInbound(d.Body)
	}
	form, files, err := parseForm(d)
	if err != nil {
		return Batch{}, err
	}
	if provider == EmailMailgun {
		err := VerifyMailgun(ch.Secret("signing_key"), form.Get("timestamp"), form.Get("token"), form.Get("signature"),
			d.Now, mailgunMaxAge, nil)
		if err != nil {
			return Batch{}, err
		}
		replayed, err := s.SeenToken(ctx, ch.ID, form.Get("token"))
		if err != nil {
			return Batch{}, err
		}
		if replayed {
			return Batch{}, fmt.Errorf("%w: Mailgun token already used (replay)", ErrBadSignature)
		}
	} else if err := verifyInboundToken(ch, d); err != nil {
		return Batch{}, err
	}
	b, err := ParseEmailForm(provider, form)
	if err == nil && len(b.Messages) == 1 && len(b.Messages[0].Media) == 0 {
		b.Messages[0].Media = files // Mailgun posts attachments as file parts
	}
	return b, err
}

// verifyInboundToken checks the shared secret of providers that sign nothing
// (Postmark, SendGrid): ?token= in the webhook URL or the basic-auth password.
func verifyInboundToken(ch Channel, d Delivery) error {
	want := ch.Secret("inbound_token")
	given := d.Query.Get("token")
	if given == "" {
		if _, pass, ok := (&http.Request{Header: d.Header}).BasicAuth(); ok {
			given = pass
		}
	}
	if want == "" || given == "" {
		return fmt.Errorf("%w: missing inbound token (?token= or basic auth)", ErrBadSignature)
	}
	if subtle.ConstantTimeCompare([]byte(given), []byte(want)) != 1 {
		return fmt.Errorf("%w: inbound token does not match", ErrBadSignature)
	}
	return nil
}

// parseForm reads a urlencoded or multipart form, and the files a
// multipart one carries (as media: type, MIME and file name; their bytes are
// the media download's business).
func parseForm(d Delivery) (url.Values, []memory.Media, error) {
	ct, params, err := mime.ParseMediaType(d.Header.Get("Content-Type"))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: content type: %v", ErrMalformed, err)
	}
	switch {
	case ct == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(d.Body))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: form: %v", ErrMalformed, err)
		}
		return form, nil, nil
	case strings.HasPrefix(ct, "multipart/"):
		mr := multipart.NewReader(bytes.NewReader(d.Body), params["boundary"])
		f, err := mr.ReadForm(maxFormMemory)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: multipart form: %v", ErrMalformed, err)
		}
		defer func() { _ = f.RemoveAll() }()
		var files []memory.Media
		names := make([]string, 0, len(f.File))
		for name := range f.File {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			for _, fh := range f.File[name] {
				mt := fh.Header.Get("Content-Type")
				files = append(files, memory.Media{Type: mediaTypeOf(mt), MIME: mt, FileName: fh.Filename, Caption: fh.Filename})
			}
		}
		return url.Values(f.Value), files, nil
	default:
		return nil, nil, fmt.Errorf("%w: content type %s is not a form", ErrMalformed, ct)
	}
}
