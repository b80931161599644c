package channels

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/atende/atende/memory"
)

// evoPayload is Evolution API v2's webhook envelope. Binary and 64-bit fields
// of the message are left unread: their JSON form varies by version.
type evoPayload struct {
	Event    string          `json:"event"`
	Instance string          `json:"instance"`
	Data     json.RawMessage `json:"data"`
}

type evoMediaMessage struct {
	URL      string `json:"url"`
	MimeType string `json:"mimetype"`
	Caption  string `json:"caption"`
	FileName string `json:"fileName"`
	PTT      bool   `json:"ptt"`
}

type evoContextInfo struct {
	StanzaID      string `json:"stanzaId"`
	QuotedMessage *struct {
		Conversation string `json:"conversation"`
	} `json:"quotedMessage"`
}

type evoMessage struct {
	Key struct {
		RemoteJID      string `json:"remoteJid"`
		RemoteJIDAlt   string `json:"remoteJidAlt"`
		FromMe         bool   `json:"fromMe"`
		ID             string `json:"id"`
		AddressingMode string `json:"addressingMode"`
	} `json:"key"`
	PushName string `json:"pushName"`
	Message  struct {
		Conversation        string `json:"conversation"`
		ExtendedTextMessage *struct {
			Text        string          `json:"text"`
			ContextInfo *evoContextInfo `json:"contextInfo"`
		} `json:"extendedTextMessage"`
		ImageMessage    *evoMediaMessage `json:"imageMessage"`
		AudioMessage    *evoMediaMessage `json:"audioMessage"`
		VideoMessage    *evoMediaMessage `json:"videoMessage"`
		DocumentMessage *evoMediaMessage `json:"documentMessage"`
		StickerMessage  *evoMediaMessage `json:"stickerMessage"`
		LocationMessage *struct {
			DegreesLatitude  float64 `json:"degreesLatitude"`
			DegreesLongitude float64 `json:"degreesLongitude"`
			Name             string  `json:"name"`
			Address          string  `json:"address"`
		} `json:"locationMessage"`
	} `json:"message"`
	ContextInfo      *evoContextInfo `json:"contextInfo"`
	MessageType      string          `json:"messageType"`
	MessageTimestamp int64           `json:"messageTimestamp"`
	Status           string          `json:"status"`
}

// ParseEvolution reads an Evolution API webhook. messages.upsert becomes
// inbound messages (fromMe ones marked FromBusiness: the business's own phone
// answered); other events carry nothing Atende stores yet and parse to an empty batch.
// A message that cannot be read is skipped (Batch.Skipped) and the others are
// kept; only a body that is not the envelope at all is ErrMalformed.
func ParseEvolution(body []byte) (Batch, error) {
	var p evoPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return Batch{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if p.Event == "" {
		return Batch{}, fmt.Errorf("%w: no event", ErrMalformed)
	}
	b := Batch{Messages: []Inbound{}, Statuses: []Status{}}
	switch strings.ToLower(strings.ReplaceAll(p.Event, "_", ".")) {
	case "messages.upsert":
	case "messages.update":
		return evoStatuses(p.Data, b), nil
	default:
		return b, nil
	}
	for _, raw := range oneOrList(p.Data) {
		var m evoMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			b.skip(evoRawID(raw), fmt.Errorf("data: %w", err))
			continue
		}
		in, ok, err := evoInbound(m)
		if err != nil {
			b.skip(m.Key.ID, err)
			continue
		}
		if ok {
			b.Messages = append(b.Messages, in)
		}
	}
	return b, nil
}

// oneOrList reads data that is one item, or a list of them on some
// versions, as the list of its items; each is decoded (and may fail) alone.
func oneOrList(data json.RawMessage) []json.RawMessage {
	var list []json.RawMessage
	if strings.HasPrefix(strings.TrimSpace(string(data)), "[") && json.Unmarshal(data, &list) == nil {
		return list
	}
	return []json.RawMessage{data}
}

// evoRawID is the key.id of a message that could not be read whole.
func evoRawID(raw json.RawMessage) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return ""
	}
	return rawID(fields["key"], "id")
}

// evoInbound converts one message; group chats and broadcasts are skipped (ok false).
func evoInbound(m evoMessage) (Inbound, bool, error) {
	if m.Key.ID == "" || m.Key.RemoteJID == "" {
		return Inbound{}, false, fmt.Errorf("%w: message without key.id or key.remoteJid", ErrMalformed)
	}
	jid := m.Key.RemoteJID
	if strings.HasSuffix(jid, "@g.us") || strings.HasSuffix(jid, "@broadcast") || strings.HasSuffix(jid, "@newsletter") {
		return Inbound{}, false, nil
	}
	in := Inbound{ExternalID: m.Key.ID, At: time.Unix(m.MessageTimestamp, 0).UTC(), FromBusiness: m.Key.FromMe}
	if !m.Key.FromMe {
		in.From.Name = m.PushName
	}
	phoneJID := jid
	if strings.HasSuffix(jid, "@lid") {
		in.From.Identities = append(in.From.Identities, memory.Identity{Kind: memory.KindWhatsAppLID, Value: strings.TrimSuffix(jid, "@lid")})
		phoneJID = m.Key.RemoteJIDAlt
	}
	if user, _, ok := strings.Cut(phoneJID, "@"); ok && strings.HasSuffix(phoneJID, "@s.whatsapp.net") {
		if id, err := memory.NormalizeIdentity(memory.KindWhatsApp, user); err == nil {
			// The phone goes first: it is who the person is on every channel.
			in.From.Identities = append([]memory.Identity{id}, in.From.Identities...)
		}
	}
	if len(in.From.Identities) == 0 {
		return Inbound{}, false, fmt.Errorf("%w: message %s has no usable remoteJid", ErrMalformed, m.Key.ID)
	}
	msg := m.Message
	ctxInfo := m.ContextInfo
	in.Type = "text"
	switch {
	case msg.Conversation != "":
		in.Text = msg.Conversation
	case msg.ExtendedTextMessage != nil:
		in.Text = msg.ExtendedTextMessage.Text
		if ctxInfo == nil {
			ctxInfo = msg.ExtendedTextMessage.ContextInfo
		}
	case msg.ImageMessage != nil:
		in.addEvoMedia("image", msg.ImageMessage)
	case msg.AudioMessage != nil:
		kind := "audio"
		if msg.AudioMessage.PTT {
			kind = "voice"
		}
		in.addEvoMedia(kind, msg.AudioMessage)
		in.Type = "audio"
	case msg.VideoMessage != nil:
		in.addEvoMedia("video", msg.VideoMessage)
	case msg.DocumentMessage != nil:
		in.addEvoMedia("document", msg.DocumentMessage)
	case msg.StickerMessage != nil:
		in.addEvoMedia("sticker", msg.StickerMessage)
	case msg.LocationMessage != nil:
		l := msg.LocationMessage
		in.Type = "location"
		in.Location = &Location{Latitude: l.DegreesLatitude, Longitude: l.DegreesLongitude, Name: l.Name, Address: l.Address}
	default:
		in.Type = "unsupported"
	}
	if ctxInfo != nil && ctxInfo.StanzaID != "" {
		in.ReplyTo = &Reply{ExternalID: ctxInfo.StanzaID}
		if ctxInfo.QuotedMessage != nil {
			in.ReplyTo.Text = ctxInfo.QuotedMessage.Conversation
		}
	}
	return in, true, nil
}

func (in *Inbound) addEvoMedia(kind string, m *evoMediaMessage) {
	in.Type = kind
	// The url is WhatsApp's encrypted .enc file, useless without the media key:
	// the message id is what fetches the media through Evolution.
	in.Media = append(in.Media, memory.Media{Type: kind, MIME: m.MimeType, PlatformID: in.ExternalID, Caption: m.Caption})
	in.Text = m.Caption
}

// evoStatus maps Evolution's (Baileys') message states to Atende's delivery statuses.
var evoStatus = map[string]string{"SERVER_ACK": "sent", "DELIVERY_ACK": "delivered", "READ": "read", "PLAYED": "read", "ERROR": "failed"}

// evoStatuses reads messages.update: delivery updates of messages the
// business sent. The shape is read leniently (keyId or key.id; one object or
// a list) because it was derived from Evolution's source, not a live capture.
func evoStatuses(data json.RawMessage, b Batch) Batch {
	type update struct {
		KeyID string `json:"keyId"`
		Key   struct {
			ID     string `json:"id"`
			FromMe bool   `json:"fromMe"`
		} `json:"key"`
		RemoteJID string `json:"remoteJid"`
		FromMe    *bool  `json:"fromMe"`
		Status    string `json:"status"`
	}
	var list []update
	for _, raw := range oneOrList(data) {
		var u update
		if err := json.Unmarshal(raw, &u); err != nil {
			b.skip(rawID(raw, "keyId"), fmt.Errorf("data: %w", err))
			continue
		}
		list = append(list, u)
	}
	for _, u := range list {
		id := u.KeyID
		if id == "" {
			id = u.Key.ID
		}
		status, ok := evoStatus[strings.ToUpper(u.Status)]
		if id == "" || !ok {
			continue
		}
		recipient, _, _ := strings.Cut(u.RemoteJID, "@")
		b.Statuses = append(b.Statuses, Status{ExternalID: id, Status: status, Recipient: recipient})
	}
	return b
}
