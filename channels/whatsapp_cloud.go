package channels

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/atende/atende/memory"
)

// waPayload is the WhatsApp Cloud API webhook envelope, as far as Atende
// reads it. Entries, changes, messages and statuses are read one by one
// (json.RawMessage), so one that is not the expected shape is skipped alone.
type waPayload struct {
	Object string            `json:"object"`
	Entry  []json.RawMessage `json:"entry"`
}

type waEntry struct {
	ID      string `json:"id"`
	Changes []struct {
		Field string          `json:"field"`
		Value json.RawMessage `json:"value"`
	} `json:"changes"`
}

type waValue struct {
	Metadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []json.RawMessage `json:"contacts"`
	Messages []json.RawMessage `json:"messages"`
	Statuses []json.RawMessage `json:"statuses"`
	// Echoes are what the business sent from the WhatsApp Business app on a
	// coexistence number (field smb_message_echoes).
	Echoes []json.RawMessage `json:"message_echoes"`
}

type waContact struct {
	WaID    string `json:"wa_id"`
	UserID  string `json:"user_id"`
	Profile struct {
		Name     string `json:"name"`
		Username string `json:"username"`
	} `json:"profile"`
}

type waStatus struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Timestamp   string `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
	Errors      []struct {
		Code      int    `json:"code"`
		Title     string `json:"title"`
		Message   string `json:"message"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"errors"`
}

type waMedia struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	Caption  string `json:"caption"`
	URL      string `json:"url"`
	Filename string `json:"filename"`
	Voice    bool   `json:"voice"`
}

type waMessage struct {
	From       string `json:"from"`
	FromUserID string `json:"from_user_id"` // a username (BSUID) sender without a phone
	To         string `json:"to"`           // an echo's customer
	GroupID    string `json:"group_id"`
	ID         string `json:"id"`
	Timestamp  string `json:"timestamp"`
	Type       string `json:"type"`
	Context    *struct {
		From string `json:"from"`
		ID   string `json:"id"`
	} `json:"context"`
	Text *struct {
		Body string `json:"body"`
	} `json:"text"`
	Image    *waMedia `json:"image"`
	Audio    *waMedia `json:"audio"`
	Video    *waMedia `json:"video"`
	Document *waMedia `json:"document"`
	Sticker  *waMedia `json:"sticker"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name"`
		Address   string  `json:"address"`
		URL       string  `json:"url"`
	} `json:"location"`
	Order *struct {
		CatalogID    string `json:"catalog_id"`
		Text         string `json:"text"`
		ProductItems []struct {
			ProductRetailerID string  `json:"product_retailer_id"`
			Quantity          int     `json:"quantity"`
			ItemPrice         float64 `json:"item_price"`
			Currency          string  `json:"currency"`
		} `json:"product_items"`
	} `json:"order"`
	Referral *struct {
		SourceURL    string `json:"source_url"`
		SourceID     string `json:"source_id"`
		SourceType   string `json:"source_type"`
		Headline     string `json:"headline"`
		Body         string `json:"body"`
		MediaType    string `json:"media_type"`
		ImageURL     string `json:"image_url"`
		VideoURL     string `json:"video_url"`
		ThumbnailURL string `json:"thumbnail_url"`
		CtwaClid     string `json:"ctwa_clid"`
	} `json:"referral"`
	Errors []struct {
		Code      int    `json:"code"`
		Title     string `json:"title"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"errors"`
	Edit *struct {
		OriginalMessageID string     `json:"original_message_id"`
		Message           *waMessage `json:"message"`
	} `json:"edit"`
	Revoke *struct {
		OriginalMessageID string `json:"original_message_id"`
	} `json:"revoke"`
	System *struct {
		Body string `json:"body"`
		WaID string `json:"wa_id"`
		Type string `json:"type"`
	} `json:"system"`
	Contacts []struct {
		Name struct {
			FormattedName string `json:"formatted_name"`
		} `json:"name"`
		Phones []struct {
			Phone string `json:"phone"`
		} `json:"phones"`
		Emails []struct {
			Email string `json:"email"`
		} `json:"emails"`
	} `json:"contacts"`
	Interactive *struct {
		Type        string `json:"type"`
		ButtonReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"list_reply"`
		NfmReply *struct {
			Name         string `json:"name"`
			Body         string `json:"body"`
			ResponseJSON string `json:"response_json"`
		} `json:"nfm_reply"`
	} `json:"interactive"`
	Button *struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	} `json:"button"`
	Reaction *struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji"`
	} `json:"reaction"`
}

// ParseWhatsAppCloud reads a WhatsApp Cloud API webhook: every entry, change,
// message and status, since Meta batches them. An item that cannot be read
// is skipped (Batch.Skipped) and the others are kept; only a body that is not
// the envelope at all is ErrMalformed.
func ParseWhatsAppCloud(body []byte) (Batch, error) {
	var p waPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return Batch{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if p.Object != "whatsapp_business_account" {
		return Batch{}, fmt.Errorf("%w: object %q is not whatsapp_business_account", ErrMalformed, p.Object)
	}
	b := Batch{Messages: []Inbound{}, Statuses: []Status{}}
	for i, raw := range p.Entry {
		var e waEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			b.skip("", fmt.Errorf("entry %d: %w", i, err))
			continue
		}
		for j, ch := range e.Changes {
			if ch.Field != "messages" && ch.Field != "smb_message_echoes" {
				continue
			}
			var v waValue
			if err := json.Unmarshal(ch.Value, &v); err != nil {
				b.skip("", fmt.Errorf("entry %d change %d: %w", i, j, err))
				continue
			}
			waChange(&b, v)
		}
	}
	return b, nil
}

// waChange adds a change's messages, echoes, annotations and statuses to
// b, skipping those that cannot be read.
func waChange(b *Batch, v waValue) {
	people := map[string]waContact{}
	for _, raw := range v.Contacts {
		var c waContact
		if json.Unmarshal(raw, &c) == nil { // a contact that cannot be read only loses its name
			// keyed by whichever id it has: username customers have no wa_id,
			// and two of them must never share the empty key
			if c.WaID != "" {
				people[c.WaID] = c
			}
			if c.UserID != "" {
				people[c.UserID] = c
			}
		}
	}
	read := func(raws []json.RawMessage, echo bool) {
		for _, raw := range raws {
			var m waMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				b.skip(rawID(raw, "id"), fmt.Errorf("message: %w", err))
				continue
			}
			in, ann, err := waInbound(m, people, echo, digitsOnly(v.Metadata.DisplayPhoneNumber))
			switch {
			case err != nil:
				b.skip(m.ID, err)
			case ann != nil:
				b.Annotations = append(b.Annotations, *ann)
			case in != nil:
				b.Messages = append(b.Messages, *in)
			}
		}
	}
	read(v.Messages, false)
	read(v.Echoes, true)
	for _, raw := range v.Statuses {
		var s waStatus
		if err := json.Unmarshal(raw, &s); err != nil {
			b.skip(rawID(raw, "id"), fmt.Errorf("status: %w", err))
			continue
		}
		st, err := waStatusOf(s)
		if err != nil {
			b.skip(s.ID, err)
			continue
		}
		b.Statuses = append(b.Statuses, st)
	}
}

// waStatusOf converts one delivery status, with the first error's reason.
func waStatusOf(s waStatus) (Status, error) {
	at, err := unixString(s.Timestamp)
	if err != nil {
		return Status{}, err
	}
	st := Status{ExternalID: s.ID, Status: s.Status, Recipient: s.RecipientID, At: at}
	if len(s.Errors) > 0 {
		st.Code = strconv.Itoa(s.Errors[0].Code)
		st.Reason = s.Errors[0].Title
		if d := s.Errors[0].ErrorData.Details; d != "" {
			st.Reason += ": " + d
		}
	}
	return st, nil
}

// waInbound converts one message (echo: sent by the business from its
// WhatsApp Business app, to m.To). Reactions, edits and deletions are
// annotations of the message they are about.
func waInbound(m waMessage, people map[string]waContact, echo bool, business string) (*Inbound, *Annotation, error) {
	if m.ID == "" {
		return nil, nil, fmt.Errorf("%w: message without id", ErrMalformed)
	}
	at, err := unixString(m.Timestamp)
	if err != nil {
		return nil, nil, err
	}
	customer := m.From
	if echo && m.To != business {
		// an echo goes from the business to the customer; publishers'
		// captures disagree on which field holds whom, so the customer is
		// whichever is not the business's own number
		customer = m.To
	}
	in := Inbound{ExternalID: m.ID, At: at, Type: m.Type, FromBusiness: echo}
	var person waContact
	if p, ok := people[m.FromUserID]; ok && m.FromUserID != "" {
		person = p
	} else if p, ok := people[customer]; ok && customer != "" {
		person = p
	}
	if !echo {
		in.From.Name, in.From.Username = person.Profile.Name, person.Profile.Username
	}
	if id, ok := memory.WhatsAppSender(customer); ok {
		in.From.Identities = append(in.From.Identities, id)
	}
	for _, u := range []string{person.UserID, m.FromUserID} {
		if u != "" && (len(in.From.Identities) == 0 || in.From.Identities[len(in.From.Identities)-1].Value != u) {
			in.From.Identities = append(in.From.Identities, memory.Identity{Kind: memory.KindWhatsAppUser, Value: u})
		}
	}
	if len(in.From.Identities) == 0 {
		return nil, nil, fmt.Errorf("%w: message %s has no sender", ErrMalformed, m.ID)
	}
	switch {
	case m.Type == "reaction" && m.Reaction != nil:
		return nil, &Annotation{ExternalID: m.ID, Target: m.Reaction.MessageID, Kind: AnnotationReaction, Emoji: m.Reaction.Emoji,
			From: in.From, At: at, FromBusiness: echo, Group: m.GroupID}, nil
	case m.Type == "edit" && m.Edit != nil:
		a := &Annotation{ExternalID: m.ID, Target: m.Edit.OriginalMessageID, Kind: AnnotationEdit, From: in.From, At: at, FromBusiness: echo, Group: m.GroupID}
		if e := m.Edit.Message; e != nil {
			edited, _, _ := waInbound(waMessage{ID: m.ID, From: m.From, To: m.To, Timestamp: m.Timestamp, Type: e.Type, Text: e.Text,
				Image: e.Image, Video: e.Video, Document: e.Document}, people, echo, business)
			if edited != nil {
				a.Text, a.Media = edited.Text, edited.Media
			}
		}
		return nil, a, nil
	case m.Type == "revoke" && m.Revoke != nil:
		return nil, &Annotation{ExternalID: m.ID, Target: m.Revoke.OriginalMessageID, Kind: AnnotationDelete, From: in.From, At: at, FromBusiness: echo, Group: m.GroupID}, nil
	case m.Type == "system" && m.System != nil:
		// "User A changed from 9729… to 9729…": the new number joins the
		// contact, and the notice is the attendant's, not a turn.
		in.Text, in.Quiet = m.System.Body, true
		if id, ok := memory.WhatsAppSender(m.System.WaID); ok {
			in.From.Identities = append(in.From.Identities, id)
		}
		return &in, nil, nil
	}
	in.Group = m.GroupID
	if m.Context != nil && m.Context.ID != "" {
		in.ReplyTo = &Reply{ExternalID: m.Context.ID}
	}
	media := func(kind string, md *waMedia) {
		if md == nil {
			return
		}
		if kind == "audio" && md.Voice {
			kind = "voice"
		}
		in.Media = append(in.Media, memory.Media{Type: kind, MIME: md.MimeType, PlatformID: md.ID, URL: md.URL, Caption: md.Caption, FileName: md.Filename})
		in.Text += md.Caption
	}
	switch m.Type {
	case "text":
		if m.Text != nil {
			in.Text += m.Text.Body
		}
	case "image":
		media("image", m.Image)
	case "audio":
		media("audio", m.Audio)
	case "video":
		media("video", m.Video)
	case "document":
		media("document", m.Document)
	case "sticker":
		media("sticker", m.Sticker)
	case "location":
		if l := m.Location; l != nil {
			in.Location = &Location{Latitude: l.Latitude, Longitude: l.Longitude, Name: l.Name, Address: l.Address, URL: l.URL}
		}
	case "order":
		if o := m.Order; o != nil {
			in.Order = &Order{CatalogID: o.CatalogID, Note: o.Text}
			for _, it := range o.ProductItems {
				in.Order.Items = append(in.Order.Items, OrderItem{ProductID: it.ProductRetailerID, Quantity: it.Quantity, Price: it.ItemPrice, Currency: it.Currency})
			}
		}
	case "unsupported":
		if len(m.Errors) > 0 {
			e := m.Errors[0]
			in.PlatformError = strings.TrimSpace(fmt.Sprintf("%d: %s. %s", e.Code, e.Title, e.ErrorData.Details))
		}
	case "contacts":
		for _, c := range m.Contacts {
			sc := SharedContact{Name: c.Name.FormattedName}
			for _, p := range c.Phones {
				sc.Phones = append(sc.Phones, p.Phone)
			}
			for _, e := range c.Emails {
				sc.Emails = append(sc.Emails, e.Email)
			}
			in.Contacts = append(in.Contacts, sc)
		}
	case "interactive":
		if i := m.Interactive; i != nil {
			switch {
			case i.ButtonReply != nil:
				in.Choice = &Choice{Kind: "button_reply", ID: i.ButtonReply.ID, Title: i.ButtonReply.Title}
			case i.ListReply != nil:
				in.Choice = &Choice{Kind: "list_reply", ID: i.ListReply.ID, Title: i.ListReply.Title}
			case i.NfmReply != nil:
				in.Form = &FormReply{Name: i.NfmReply.Name}
				if json.Valid([]byte(i.NfmReply.ResponseJSON)) {
					in.Form.Response = json.RawMessage(i.NfmReply.ResponseJSON)
				}
				// the answers are what the attendant and the agents need, not "Sent"
				in.Text = strings.TrimSpace(describe(Inbound{MessageContext: MessageContext{Form: in.Form}}))
			}
			if in.Choice != nil {
				in.Text = in.Choice.Title
			}
		}
	case "button":
		if m.Button != nil {
			in.Choice = &Choice{Kind: "template_button", ID: m.Button.Payload, Title: m.Button.Text}
			in.Text = m.Button.Text
		}
	}
	if r := m.Referral; r != nil {
		in.Referral = &Referral{Source: r.SourceType, SourceID: r.SourceID, SourceURL: r.SourceURL, Headline: r.Headline, Body: r.Body,
			MediaType: r.MediaType, MediaURL: cmp.Or(r.ImageURL, r.VideoURL, r.ThumbnailURL), ClickID: r.CtwaClid}
	}
	return &in, nil, nil
}

func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func unixString(s string) (time.Time, error) {
	secs, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: timestamp %q is not unix seconds", ErrMalformed, s)
	}
	return time.Unix(secs, 0).UTC(), nil
}

// defaultGraphURL is the Graph API WhatsApp Cloud is sent through, unless
// settings.base_url says otherwise (tests, proxies).
const defaultGraphURL = "https://graph.facebook.com/v21.0"

// whatsAppCloud is the WhatsApp Cloud API (Meta Graph) adapter.
// Its replies need nothing but the address (asIs).
type whatsAppCloud struct{ asIs }

// Kind is KindWhatsApp.
func (whatsAppCloud) Kind() Kind { return KindWhatsApp }

// Capabilities: the Meta app's secret and tokens, and the business number.
func (whatsAppCloud) Capabilities() Capabilities {
	return Capabilities{RequiredSettings: []string{"phone_number_id"}, RequiredSecrets: []string{"app_secret", "verify_token", "access_token"},
		StatusRecipients: true}
}

// Open checks Meta's X-Hub-Signature-256 and parses the Cloud API envelope.
func (whatsAppCloud) Open(_ context.Context, ch Channel, d Delivery, _ Replays) (Batch, error) {
	if err := VerifyMetaSignature(ch.Secret("app_secret"), d.Body, d.Header.Get("X-Hub-Signature-256")); err != nil {
		return Batch{}, err
	}
	return ParseWhatsAppCloud(d.Body)
}

// Rules are WhatsApp's, with Meta's 24-hour window reopened by a template.
func (whatsAppCloud) Rules() Rules {
	r := whatsAppRules(KindWhatsApp)
	r.Window = 24 * time.Hour
	r.WindowTemplate = "retomar_atendimento"
	return r
}

// Address is the contact's phone, or else the business-scoped user id of a
// username customer who never shared one.
func (whatsAppCloud) Address(ids []memory.Identity) (string, bool) {
	if to, ok := phoneOf(ids); ok {
		return to, true
	}
	return identityOf(ids, memory.KindWhatsAppUser)
}

// Send posts to the number's /messages: a template, a media link or text.
func (whatsAppCloud) Send(ctx context.Context, via *Platforms, ch Channel, m PlatformMessage) (string, error) {
	body := map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": m.To}
	if isBSUID(m.To) {
		// a username sender without a phone is addressed by its business-scoped id
		delete(body, "to")
		body["recipient"] = m.To
	}
	switch {
	case m.Template != nil:
		params := make([]map[string]string, len(m.Template.Params))
		for i, p := range m.Template.Params {
			params[i] = map[string]string{"type": "text", "text": p}
		}
		tpl := map[string]any{"name": m.Template.Name, "language": map[string]string{"code": m.Template.Language}}
		if len(params) > 0 {
			tpl["components"] = []map[string]any{{"type": "body", "parameters": params}}
		}
		body["type"], body["template"] = "template", tpl
	case m.Media != nil:
		kind := waMediaKind(m.Media.Type)
		media := map[string]string{"link": m.Media.URL}
		if m.Text != "" && kind != "audio" && kind != "sticker" {
			media["caption"] = m.Text
		}
		if kind == "document" && m.Media.FileName != "" {
			media["filename"] = m.Media.FileName // shown to the customer instead of "Untitled"
		}
		body["type"], body[kind] = kind, media
	default:
		body["type"], body["text"] = "text", map[string]any{"preview_url": false, "body": m.Text}
	}
	if m.ReplyTo != "" {
		body["context"] = map[string]string{"message_id": m.ReplyTo}
	}
	var out struct {
		Messages []struct{ ID string } `json:"messages"`
	}
	url := baseURL(ch, defaultGraphURL) + "/" + ch.Settings["phone_number_id"] + "/messages"
	if err := via.postJSON(ctx, url, map[string]string{"Authorization": "Bearer " + ch.Secret("access_token")}, body, &out); err != nil {
		return "", err
	}
	if len(out.Messages) == 0 || out.Messages[0].ID == "" {
		return "", &SendError{Reason: "WhatsApp answered without a message id"}
	}
	return out.Messages[0].ID, nil
}

// isBSUID is a WhatsApp business-scoped user id ("BR.13491208655302741918"):
// two capital letters and a dot, where a phone is digits only.
func isBSUID(s string) bool {
	return len(s) > 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] == '.'
}
