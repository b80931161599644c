package channels

import (
	"encoding/json"
	"fmt"
	"strconv"
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
	From      string `json:"from"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Context   *struct {
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
	} `json:"location"`
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
			if ch.Field != "messages" {
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

// waChange adds a change's messages and statuses to b, skipping those that
// cannot be read.
func waChange(b *Batch, v waValue) {
	names := map[string]string{}
	users := map[string]string{}
	for _, raw := range v.Contacts {
		var c waContact
		if json.Unmarshal(raw, &c) == nil { // a contact that cannot be read only loses its name
			names[c.WaID] = c.Profile.Name
			users[c.WaID] = c.UserID
		}
	}
	for _, raw := range v.Messages {
		var m waMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			b.skip(rawID(raw, "id"), fmt.Errorf("message: %w", err))
			continue
		}
		in, err := waInbound(m, names, users)
		if err != nil {
			b.skip(m.ID, err)
			continue
		}
		b.Messages = append(b.Messages, in)
	}
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

func waInbound(m waMessage, names, users map[string]string) (Inbound, error) {
	if m.ID == "" {
		return Inbound{}, fmt.Errorf("%w: message without id", ErrMalformed)
	}
	at, err := unixString(m.Timestamp)
	if err != nil {
		return Inbound{}, err
	}
	in := Inbound{ExternalID: m.ID, At: at, Type: m.Type, From: Sender{Name: names[m.From]}}
	if id, err := memory.NormalizeIdentity(memory.KindWhatsApp, m.From); err == nil {
		in.From.Identities = append(in.From.Identities, id)
	}
	if u := users[m.From]; u != "" {
		in.From.Identities = append(in.From.Identities, memory.Identity{Kind: memory.KindWhatsAppUser, Value: u})
	}
	if len(in.From.Identities) == 0 {
		return Inbound{}, fmt.Errorf("%w: message %s has no sender", ErrMalformed, m.ID)
	}
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
		in.Media = append(in.Media, memory.Media{Type: kind, MIME: md.MimeType, PlatformID: md.ID, URL: md.URL, Caption: md.Caption})
		in.Text = md.Caption
	}
	switch m.Type {
	case "text":
		if m.Text != nil {
			in.Text = m.Text.Body
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
			in.Location = &Location{Latitude: l.Latitude, Longitude: l.Longitude, Name: l.Name, Address: l.Address}
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
	case "reaction":
		if r := m.Reaction; r != nil {
			in.Text = r.Emoji
			in.ReplyTo = &Reply{ExternalID: r.MessageID}
		}
	}
	return in, nil
}

func unixString(s string) (time.Time, error) {
	secs, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: timestamp %q is not unix seconds", ErrMalformed, s)
	}
	return time.Unix(secs, 0).UTC(), nil
}
