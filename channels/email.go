package channels

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/textproto"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/atende/atende/internal/sanitize"
	"github.com/atende/atende/memory"
)

// Email providers whose inbound-parse webhooks Atende reads.
const (
	EmailPostmark = "postmark" // JSON
	EmailSendGrid = "sendgrid" // multipart form (Inbound Parse)
	EmailMailgun  = "mailgun"  // form (Routes forward)
)

// emailParts is what every provider gives, before it becomes an Inbound.
type emailParts struct {
	from, subject, text, stripped, date string
	headers                             textproto.MIMEHeader
	attachments                         []memory.Media
}

// ParsePostmarkInbound reads Postmark's inbound webhook JSON.
func ParsePostmarkInbound(body []byte) (Batch, error) {
	var p struct {
		From              string
		FromName          string
		Subject           string
		Date              string
		TextBody          string
		StrippedTextReply string
		Headers           []struct{ Name, Value string }
		Attachments       []struct {
			Name        string
			ContentType string
			Content     string // base64
		}
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return Batch{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	e := emailParts{from: p.From, subject: p.Subject, text: p.TextBody, stripped: p.StrippedTextReply, date: p.Date,
		headers: textproto.MIMEHeader{}}
	if p.FromName != "" {
		e.from = (&mail.Address{Name: p.FromName, Address: p.From}).String()
	}
	for _, h := range p.Headers {
		e.headers.Add(h.Name, h.Value)
	}
	for _, a := range p.Attachments {
		data, _ := base64.StdEncoding.DecodeString(a.Content) // not base64: the name is kept, the file is not
		e.attachments = append(e.attachments, memory.Media{Type: mediaTypeOf(a.ContentType), MIME: a.ContentType, Caption: a.Name, FileName: a.Name,
			Data: nonEmptyBytes(data)})
	}
	return e.batch()
}

// ParseEmailForm reads the form fields of SendGrid Inbound Parse or Mailgun
// Routes (the handler has already parsed the multipart or urlencoded body).
func ParseEmailForm(provider string, form url.Values) (Batch, error) {
	e := emailParts{headers: textproto.MIMEHeader{}}
	switch provider {
	case EmailSendGrid:
		if raw := form.Get("email"); raw != "" {
			// "Send raw" mode: the whole MIME message in one field.
			return parseRawEmail(raw)
		}
		e.from, e.subject, e.text = form.Get("from"), form.Get("subject"), form.Get("text")
		raw := strings.ReplaceAll(form.Get("headers"), "\r\n", "\n")
		for _, line := range strings.Split(raw, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") {
				e.headers.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		n, _ := strconv.Atoi(form.Get("attachments"))
		var info map[string]struct {
			Filename string `json:"filename"`
			Type     string `json:"type"`
		}
		_ = json.Unmarshal([]byte(form.Get("attachment-info")), &info)
		for i := 1; i <= n; i++ {
			a := info["attachment"+strconv.Itoa(i)]
			e.attachments = append(e.attachments, memory.Media{Type: mediaTypeOf(a.Type), MIME: a.Type, Caption: a.Filename, FileName: a.Filename})
		}
	case EmailMailgun:
		e.from, e.subject, e.text, e.stripped = form.Get("from"), form.Get("subject"), form.Get("body-plain"), form.Get("stripped-text")
		var pairs [][2]string
		if err := json.Unmarshal([]byte(form.Get("message-headers")), &pairs); err == nil {
			for _, p := range pairs {
				e.headers.Add(p[0], p[1])
			}
		}
		for _, k := range []string{"Message-Id", "In-Reply-To", "References", "Date"} {
			if v := form.Get(k); v != "" && e.headers.Get(k) == "" {
				e.headers.Set(k, v)
			}
		}
	default:
		return Batch{}, fmt.Errorf("%w: unknown e-mail provider %q (postmark, sendgrid, mailgun)", ErrMalformed, provider)
	}
	return e.batch()
}

var dec = new(mime.WordDecoder)

// parseRawEmail reads a whole MIME message (SendGrid's raw mode): headers,
// the first text/plain part however deep (multipart/mixed around
// multipart/alternative), decoded from quoted-printable or base64 and its
// charset, and attachments' names.
func parseRawEmail(raw string) (Batch, error) {
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		return Batch{}, fmt.Errorf("%w: raw e-mail: %v", ErrMalformed, err)
	}
	e := emailParts{headers: textproto.MIMEHeader(msg.Header), from: msg.Header.Get("From"), subject: msg.Header.Get("Subject")}
	walkMIME(textproto.MIMEHeader(msg.Header), msg.Body, &e, 0)
	return e.batch()
}

// walkMIME reads one MIME entity into e: its text if it is the first plain
// text, its name if it is an attachment, its parts if it is multipart.
func walkMIME(h textproto.MIMEHeader, body io.Reader, e *emailParts, depth int) {
	ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		ct = "text/plain"
	}
	disposition, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := cmp.Or(dparams["filename"], params["name"])
	switch {
	case strings.HasPrefix(ct, "multipart/") && depth < 5:
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walkMIME(part.Header, part, e, depth+1)
		}
	case name != "" || disposition == "attachment":
		data, _ := io.ReadAll(io.LimitReader(transferDecoded(h.Get("Content-Transfer-Encoding"), body), maxAttachmentBytes))
		e.attachments = append(e.attachments, memory.Media{Type: mediaTypeOf(ct), MIME: ct, FileName: name, Caption: name, Data: nonEmptyBytes(data)})
	case ct == "text/plain" && e.text == "":
		e.text = decodeText(h.Get("Content-Transfer-Encoding"), params["charset"], body)
	}
}

// decodeText reads a text part in UTF-8 whatever its transfer encoding and
// charset (ISO-8859-1 and Windows-1252 are still common in Brazilian mail).
func decodeText(encoding, charset string, body io.Reader) string {
	raw, _ := io.ReadAll(io.LimitReader(transferDecoded(encoding, body), maxFormMemory))
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "windows-1252", "cp1252":
		out := make([]rune, len(raw))
		for i, b := range raw {
			out[i] = rune(b)
		}
		return string(out)
	}
	return string(raw)
}

// transferDecoded undoes a MIME part's Content-Transfer-Encoding.
func transferDecoded(encoding string, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		return quotedprintable.NewReader(body)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &lineJoiner{r: body})
	}
	return body
}

// maxAttachmentBytes bounds one attachment read from a delivery (the blob
// store refuses larger files anyway, with why).
const maxAttachmentBytes = 26 << 20

func nonEmptyBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// lineJoiner drops the line breaks base64 bodies are folded with.
type lineJoiner struct{ r io.Reader }

func (l *lineJoiner) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	out := p[:0]
	for _, b := range p[:n] {
		if b != '\r' && b != '\n' {
			out = append(out, b)
		}
	}
	return len(out), err
}

func (e emailParts) batch() (Batch, error) {
	e.clean()
	addr, err := mail.ParseAddress(e.from)
	if err != nil {
		return Batch{}, fmt.Errorf("%w: from %q is not an address", ErrMalformed, e.from)
	}
	id, err := memory.NormalizeIdentity(memory.KindEmail, addr.Address)
	if err != nil {
		return Batch{}, fmt.Errorf("%w: from: %v", ErrMalformed, err)
	}
	subject := e.subject
	if decoded, err := dec.DecodeHeader(subject); err == nil {
		subject = decoded
	}
	thread := &EmailThread{
		Subject:    subject,
		Body:       strings.TrimSpace(e.text),
		MessageID:  strings.TrimSpace(e.headers.Get("Message-Id")),
		InReplyTo:  strings.TrimSpace(e.headers.Get("In-Reply-To")),
		References: strings.Fields(e.headers.Get("References")),
	}
	if thread.MessageID == "" {
		// SendGrid drops the header on some posts and gives up after its
		// retries: an id made of what a retry repeats still dedupes it.
		sum := sha256.Sum256([]byte(id.Value + "\x00" + subject + "\x00" + e.headers.Get("Date") + "\x00" + e.text))
		thread.MessageID = "<atende-" + hex.EncodeToString(sum[:12]) + "@no-message-id>"
	}
	date := e.date
	if date == "" {
		date = e.headers.Get("Date")
	}
	at, err := mail.ParseDate(date)
	if err != nil {
		at = time.Time{}
	}
	text := e.stripped
	if strings.TrimSpace(text) == "" {
		text = StripEmailReply(e.text)
	}
	in := Inbound{ExternalID: thread.MessageID, At: at.UTC(), Type: "text", Text: strings.TrimSpace(text),
		From: Sender{Name: addr.Name, Identities: []memory.Identity{id}}, MessageContext: MessageContext{Email: thread}, Media: e.attachments}
	return Batch{Messages: []Inbound{in}, Statuses: []Status{}}, nil
}

// clean drops NUL and invalid UTF-8 before the addresses and headers are
// parsed: a stray byte in a display name must not make the sender unreadable.
// (Ingestion cleans the message again, whatever channel it came from.)
func (e *emailParts) clean() {
	for _, f := range []*string{&e.from, &e.subject, &e.text, &e.stripped, &e.date} {
		*f = sanitize.Text(*f)
	}
	sanitize.Strings(&e.headers)
}

func mediaTypeOf(mimeType string) string {
	switch {
	case strings.HasPrefix(mimeType, "image/"):
		return "image"
	case strings.HasPrefix(mimeType, "audio/"):
		return "audio"
	case strings.HasPrefix(mimeType, "video/"):
		return "video"
	default:
		return "document"
	}
}

// quoteHeader matches the line mail clients put above a quoted reply, in
// Portuguese, English and Spanish ("Em qui., 20 de nov. ... escreveu:",
// "On Thu, ... wrote:", "El ... escribió:").
var quoteHeader = regexp.MustCompile(`(?i)^(em .+ escreveu:|on .+ wrote:|el .+ escribi[oó]:|-{2,}\s*(mensagem original|original message|mensaje original)\s*-{2,}|de: .+|from: .+)$`)

// signOffs end a message body; what follows is a signature.
var signOff = regexp.MustCompile(`(?i)^(obrigad[oa]s?|att\.?|atenciosamente|abraços?|abs\.?|grat[oa]|cordialmente|regards|best regards|thanks|saludos)[,.!]?$`)

// StripEmailReply keeps what the customer wrote in this e-mail: the quoted
// earlier message and the signature ("-- " block or a sign-off line and what
// follows) are cut.
func StripEmailReply(body string) string {
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	var kept []string
	for _, line := range lines {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, ">") || quoteHeader.MatchString(t) || line == "-- " || t == "--" || t == "__" {
			break
		}
		kept = append(kept, line)
	}
	for i, line := range kept {
		if i > 0 && signOff.MatchString(strings.TrimSpace(line)) {
			kept = kept[:i]
			break
		}
	}
	return strings.TrimSpace(strings.Join(kept, "\n"))
}

// VerifyMailgun checks a Mailgun webhook: signature = hex(HMAC-SHA256(key,
// timestamp+token)), a timestamp within maxAge of now, and a token not seen
// before (seen reports and records it) — a replayed request fails.
func VerifyMailgun(signingKey, timestamp, token, signature string, now time.Time, maxAge time.Duration, seen func(token string) bool) error {
	if signingKey == "" || timestamp == "" || token == "" || signature == "" {
		return fmt.Errorf("%w: missing Mailgun timestamp, token or signature", ErrBadSignature)
	}
	mac := hmac.New(sha256.New, []byte(signingKey))
	mac.Write([]byte(timestamp + token))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(signature))) {
		return fmt.Errorf("%w: Mailgun signature does not match", ErrBadSignature)
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: Mailgun timestamp is not unix seconds", ErrBadSignature)
	}
	if age := now.Sub(time.Unix(secs, 0)); age > maxAge || age < -maxAge {
		return fmt.Errorf("%w: Mailgun timestamp is %s away from now", ErrBadSignature, age.Round(time.Second))
	}
	if seen != nil && seen(token) {
		return fmt.Errorf("%w: Mailgun token already used (replay)", ErrBadSignature)
	}
	return nil
}

// mailgunMaxAge is how far a Mailgun timestamp may be from now.
const mailgunMaxAge = 5 * time.Minute

// maxFormMemory bounds the in-memory part of a multipart e-mail form.
const maxFormMemory = 32 << 20

// email is the adapter of inbound e-mail (Postmark, SendGrid or Mailgun
// posting to the webhook) answered through SMTP (email_send.go).
type email struct{}

// Kind is KindEmail.
func (email) Kind() Kind { return KindEmail }

// Capabilities: the inbound provider, the channel's address and the token
// providers that sign nothing are checked with (generated).
func (email) Capabilities() Capabilities {
	return Capabilities{RequiredSettings: []string{"provider", "address"}, RequiredSecrets: []string{"inbound_token"}}
}

// checkConfig: a provider Atende reads, and Mailgun's signing key.
func (email) checkConfig(n NewChannel) error {
	switch n.Settings["provider"] {
	case EmailPostmark, EmailSendGrid, EmailMailgun:
	default:
		return fmt.Errorf("%w: settings.provider must be postmark, sendgrid or mailgun", ErrInvalidConfig)
	}
	if n.Settings["provider"] == EmailMailgun && n.Secrets["signing_key"] == "" {
		return fmt.Errorf("%w: a mailgun channel needs secrets.signing_key", ErrInvalidConfig)
	}
	return nil
}

// Open verifies the provider's post (Mailgun's signature and one-time
// token, the inbound token for the others) and parses it.
func (email) Open(ctx context.Context, ch Channel, d Delivery, replays Replays) (Batch, error) {
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
		replayed, err := replays.SeenToken(ctx, ch.ID, form.Get("token"))
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
	if err == nil && len(b.Messages) == 1 {
		b.Messages[0].Media = withFileParts(b.Messages[0].Media, files)
	}
	return b, err
}

// withFileParts gives the attachments the form described (SendGrid's
// attachment-info, in order) the bytes of their file parts; without a
// description the file parts are the attachments (Mailgun).
func withFileParts(described []memory.Media, files []formFile) []memory.Media {
	if len(described) == 0 {
		out := make([]memory.Media, len(files))
		for i, f := range files {
			out[i] = f.Media
		}
		return out
	}
	byField := map[string]memory.Media{}
	for _, f := range files {
		byField[f.Field] = f.Media
	}
	for i := range described {
		if f, ok := byField["attachment"+strconv.Itoa(i+1)]; ok {
			described[i].Data = f.Data
		}
	}
	return described
}

// Send hands the reply to the mailer (SMTP in production).
func (email) Send(ctx context.Context, via *Platforms, ch Channel, m PlatformMessage) (string, error) {
	if via.mail == nil {
		return "", &SendError{Reason: "no mail sender configured"}
	}
	if m.Media != nil && m.Media.URL != "" {
		// a file goes as its link: the customer downloads it from Atende
		name := cmp.Or(m.Media.FileName, "arquivo")
		m.Text = strings.TrimSpace(m.Text + "\n\nAnexo: " + name + " — " + m.Media.URL)
		m.HTML = ""
		m.Media = nil
	}
	return via.mail.SendMail(ctx, ch, m)
}

// Rules: complete, formal answers, and no window.
func (email) Rules() Rules {
	templates := ptTemplates()
	templates[TemplateClarify] = "Olá! Para encaminharmos sua mensagem ao setor certo, poderia nos dizer se o assunto é {{options}}?\n\nAtenciosamente."
	return Rules{Kind: KindEmail, MaxLength: 100000, Format: FormatEmail, ResponseTime: 4 * time.Hour,
		Tone:       "E-mail: completo e formal, com saudação e despedida, respondendo a todos os pontos.",
		Collection: CollectInline, Templates: templates}
}

// Address is the contact's e-mail address.
func (email) Address(ids []memory.Identity) (string, bool) { return identityOf(ids, memory.KindEmail) }

// Reply answers in the thread of the customer's last e-mail.
func (email) Reply(m PlatformMessage, c ReplyContext) (PlatformMessage, string) {
	m.Subject, m.Thread = emailThreadOf(c.Last)
	return m, ""
}

// emailThreadOf answers in the thread of the customer's last e-mail: "Re:" its
// subject, In-Reply-To its Message-ID, References its chain.
func emailThreadOf(last memory.Event) (string, *EmailThread) {
	var p struct {
		Email *EmailThread `json:"email"`
	}
	if len(last.Payload) == 0 || json.Unmarshal(last.Payload, &p) != nil || p.Email == nil {
		return "Atendimento", nil
	}
	subject := p.Email.Subject
	if !strings.HasPrefix(strings.ToLower(subject), "re:") {
		subject = "Re: " + subject
	}
	refs := append(append([]string{}, p.Email.References...), p.Email.MessageID)
	return subject, &EmailThread{InReplyTo: p.Email.MessageID, References: refs}
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
// formFile is a file part of a posted form, by the field it came in
// (SendGrid names them attachment1…N, Mailgun attachment-1…N).
type formFile struct {
	Field string
	Media memory.Media
}

func formFileData(fh *multipart.FileHeader) []byte {
	f, err := fh.Open()
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }()
	data, _ := io.ReadAll(io.LimitReader(f, maxAttachmentBytes))
	return nonEmptyBytes(data)
}

func parseForm(d Delivery) (url.Values, []formFile, error) {
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
		var files []formFile
		names := make([]string, 0, len(f.File))
		for name := range f.File {
			names = append(names, name)
		}
		sort.Slice(names, func(a, b int) bool { // attachment2 before attachment10
			if len(names[a]) != len(names[b]) {
				return len(names[a]) < len(names[b])
			}
			return names[a] < names[b]
		})
		for _, name := range names {
			for _, fh := range f.File[name] {
				mt := fh.Header.Get("Content-Type")
				files = append(files, formFile{Field: name, Media: memory.Media{Type: mediaTypeOf(mt), MIME: mt, FileName: fh.Filename,
					Caption: fh.Filename, Data: formFileData(fh)}})
			}
		}
		return url.Values(f.Value), files, nil
	default:
		return nil, nil, fmt.Errorf("%w: content type %s is not a form", ErrMalformed, ct)
	}
}
