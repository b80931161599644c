package channels

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/base64"
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
	Title    string `json:"title"`
	PTT      bool   `json:"ptt"`
	Seconds  int    `json:"seconds"`
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
		Participant    string `json:"participant"` // the sender, in a group
	} `json:"key"`
	PushName         string          `json:"pushName"`
	Message          evoContent      `json:"message"`
	ContextInfo      *evoContextInfo `json:"contextInfo"`
	MessageType      string          `json:"messageType"`
	MessageTimestamp int64           `json:"messageTimestamp"`
	Status           string          `json:"status"`
}

// evoKey names a message another one is about (a reaction, an edit, a deletion).
type evoKey struct {
	RemoteJID string `json:"remoteJid"`
	FromMe    bool   `json:"fromMe"`
	ID        string `json:"id"`
}

// evoWrapper is one of the envelopes WhatsApp puts around a message:
// disappearing (ephemeral), view once, a document with its caption, an edit.
type evoWrapper struct {
	Message *evoContent `json:"message"`
}

// evoContent is Baileys' message content, as far as Atende reads it.
type evoContent struct {
	Conversation string `json:"conversation"`
	// Base64 is the file itself, when the instance sends media in its
	// webhooks (WEBHOOK_BASE64): kept at ingest, no download needed.
	Base64              string `json:"base64"`
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
	ContactMessage       *evoContactCard `json:"contactMessage"`
	ContactsArrayMessage *struct {
		Contacts []evoContactCard `json:"contacts"`
	} `json:"contactsArrayMessage"`
	ReactionMessage *struct {
		Key  evoKey `json:"key"`
		Text string `json:"text"`
	} `json:"reactionMessage"`
	ProtocolMessage *struct {
		Key           evoKey          `json:"key"`
		Type          json.RawMessage `json:"type"` // "REVOKE", "MESSAGE_EDIT", or their numbers; absent is 0, REVOKE
		EditedMessage *evoContent     `json:"editedMessage"`
	} `json:"protocolMessage"`
	PollCreationMessage   *evoPoll `json:"pollCreationMessage"`
	PollCreationMessageV3 *evoPoll `json:"pollCreationMessageV3"`
	ButtonsResponse       *struct {
		SelectedButtonID    string `json:"selectedButtonId"`
		SelectedDisplayText string `json:"selectedDisplayText"`
	} `json:"buttonsResponseMessage"`
	ListResponse *struct {
		Title             string `json:"title"`
		SingleSelectReply struct {
			SelectedRowID string `json:"selectedRowId"`
		} `json:"singleSelectReply"`
	} `json:"listResponseMessage"`
	TemplateButtonReply *struct {
		SelectedID          string `json:"selectedId"`
		SelectedDisplayText string `json:"selectedDisplayText"`
	} `json:"templateButtonReplyMessage"`

	Ephemeral           *evoWrapper `json:"ephemeralMessage"`
	ViewOnce            *evoWrapper `json:"viewOnceMessage"`
	ViewOnceV2          *evoWrapper `json:"viewOnceMessageV2"`
	ViewOnceV2Ext       *evoWrapper `json:"viewOnceMessageV2Extension"`
	DocumentWithCaption *evoWrapper `json:"documentWithCaptionMessage"`
	Edited              *evoWrapper `json:"editedMessage"`
	DeviceSent          *evoWrapper `json:"deviceSentMessage"`
}

// evoContactCard is a shared contact: a name and its vCard.
type evoContactCard struct {
	DisplayName string `json:"displayName"`
	VCard       string `json:"vcard"`
}

// evoPoll is a poll the customer created.
type evoPoll struct {
	Name    string `json:"name"`
	Options []struct {
		OptionName string `json:"optionName"`
	} `json:"options"`
}

// unwrapped is the content inside WhatsApp's envelopes (disappearing, view
// once, document with caption, edit, sent from another device), however
// deep: before, a chat with disappearing messages on arrived as empty
// "[unsupported]" turns and the bot answered blind (issue 12).
func (c evoContent) unwrapped() evoContent {
	for range 4 {
		var next *evoWrapper
		for _, w := range []*evoWrapper{c.Ephemeral, c.ViewOnce, c.ViewOnceV2, c.ViewOnceV2Ext, c.DocumentWithCaption, c.Edited, c.DeviceSent} {
			if w != nil && w.Message != nil {
				next = w
				break
			}
		}
		if next == nil {
			return c
		}
		c = *next.Message
	}
	return c
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
	case "messages.delete":
		return evoDeletions(p.Data, b), nil
	default:
		return b, nil
	}
	for _, raw := range oneOrList(p.Data) {
		var m evoMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			b.skip(evoRawID(raw), fmt.Errorf("data: %w", err))
			continue
		}
		in, ann, err := evoInbound(m)
		switch {
		case err != nil:
			b.skip(m.Key.ID, err)
		case ann != nil:
			b.Annotations = append(b.Annotations, *ann)
		case in != nil:
			b.Messages = append(b.Messages, *in)
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

// evoInbound converts one message: a customer's (or the business's own)
// message, or an annotation of an earlier one (a reaction, an edit, a
// deletion). Group chats, broadcasts and content the customer did not write
// (a poll vote, bare context) are neither.
func evoInbound(m evoMessage) (*Inbound, *Annotation, error) {
	if m.Key.ID == "" || m.Key.RemoteJID == "" {
		return nil, nil, fmt.Errorf("%w: message without key.id or key.remoteJid", ErrMalformed)
	}
	jid := m.Key.RemoteJID
	if strings.HasSuffix(jid, "@broadcast") || strings.HasSuffix(jid, "@newsletter") {
		return nil, nil, nil
	}
	in := Inbound{ExternalID: m.Key.ID, At: time.Unix(m.MessageTimestamp, 0).UTC(), FromBusiness: m.Key.FromMe}
	if strings.HasSuffix(jid, "@g.us") {
		// a group: the person is the participant; the channel's group policy decides
		if m.Key.Participant == "" || m.Key.FromMe {
			return nil, nil, nil
		}
		in.Group = strings.TrimSuffix(jid, "@g.us")
		jid = m.Key.Participant
	}
	if !m.Key.FromMe {
		in.From.Name = m.PushName
	}
	phoneJID := jid
	if strings.HasSuffix(jid, "@lid") {
		in.From.Identities = append(in.From.Identities, memory.Identity{Kind: memory.KindWhatsAppLID, Value: strings.TrimSuffix(jid, "@lid")})
		phoneJID = m.Key.RemoteJIDAlt
	}
	if user, _, ok := strings.Cut(phoneJID, "@"); ok && strings.HasSuffix(phoneJID, "@s.whatsapp.net") {
		if id, ok := memory.WhatsAppSender(user); ok {
			// The phone goes first: it is who the person is on every channel.
			in.From.Identities = append([]memory.Identity{id}, in.From.Identities...)
		}
	}
	if len(in.From.Identities) == 0 {
		return nil, nil, fmt.Errorf("%w: message %s has no usable remoteJid", ErrMalformed, m.Key.ID)
	}
	msg := m.Message.unwrapped()
	if ann := evoAnnotation(msg, in); ann != nil {
		return nil, ann, nil
	}
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
	case msg.ContactMessage != nil || msg.ContactsArrayMessage != nil:
		in.Type = "contacts"
		cards := []evoContactCard{}
		if msg.ContactMessage != nil {
			cards = append(cards, *msg.ContactMessage)
		}
		if msg.ContactsArrayMessage != nil {
			cards = append(cards, msg.ContactsArrayMessage.Contacts...)
		}
		for _, c := range cards {
			in.Contacts = append(in.Contacts, parseVCard(c.DisplayName, c.VCard))
		}
	case msg.PollCreationMessage != nil || msg.PollCreationMessageV3 != nil:
		poll := msg.PollCreationMessage
		if poll == nil {
			poll = msg.PollCreationMessageV3
		}
		in.Type = "poll"
		var opts []string
		for _, o := range poll.Options {
			opts = append(opts, o.OptionName)
		}
		in.Text = "Enquete: " + poll.Name
		if len(opts) > 0 {
			in.Text += " — " + strings.Join(opts, " / ")
		}
	case msg.ButtonsResponse != nil:
		in.Choice = &Choice{Kind: "button_reply", ID: msg.ButtonsResponse.SelectedButtonID, Title: msg.ButtonsResponse.SelectedDisplayText}
		in.Text = in.Choice.Title
	case msg.ListResponse != nil:
		in.Choice = &Choice{Kind: "list_reply", ID: msg.ListResponse.SingleSelectReply.SelectedRowID, Title: msg.ListResponse.Title}
		in.Text = in.Choice.Title
	case msg.TemplateButtonReply != nil:
		in.Choice = &Choice{Kind: "template_button", ID: msg.TemplateButtonReply.SelectedID, Title: msg.TemplateButtonReply.SelectedDisplayText}
		in.Text = in.Choice.Title
	default:
		// a poll vote (encrypted), bare messageContextInfo, a protocol
		// message that is neither edit nor deletion: nothing the customer wrote
		return nil, nil, nil
	}
	in.attachEvoBase64(m.Message.Base64)
	if ctxInfo != nil && ctxInfo.StanzaID != "" {
		in.ReplyTo = &Reply{ExternalID: ctxInfo.StanzaID}
		if ctxInfo.QuotedMessage != nil {
			in.ReplyTo.Text = ctxInfo.QuotedMessage.Conversation
		}
	}
	return &in, nil, nil
}

// evoAnnotation reads a reaction, an edit or a deletion of an earlier
// message; nil for anything else.
func evoAnnotation(msg evoContent, in Inbound) *Annotation {
	a := Annotation{ExternalID: in.ExternalID, From: in.From, At: in.At, FromBusiness: in.FromBusiness, Group: in.Group}
	switch {
	case msg.ReactionMessage != nil:
		a.Kind, a.Target, a.Emoji = AnnotationReaction, msg.ReactionMessage.Key.ID, msg.ReactionMessage.Text
	case msg.ProtocolMessage != nil:
		p := msg.ProtocolMessage
		a.Target = p.Key.ID
		switch t := strings.Trim(string(p.Type), `"`); {
		case p.EditedMessage != nil || t == "MESSAGE_EDIT" || t == "14":
			a.Kind = AnnotationEdit
			if p.EditedMessage != nil {
				e := p.EditedMessage.unwrapped()
				a.Text = e.Conversation
				if e.ExtendedTextMessage != nil {
					a.Text = e.ExtendedTextMessage.Text
				}
				for _, md := range []*evoMediaMessage{e.ImageMessage, e.VideoMessage, e.DocumentMessage} {
					if md != nil && a.Text == "" {
						a.Text = md.Caption
					}
				}
			}
		case t == "" || t == "REVOKE" || t == "0":
			a.Kind = AnnotationDelete
		default:
			return nil
		}
	default:
		return nil
	}
	return &a
}

func (in *Inbound) addEvoMedia(kind string, m *evoMediaMessage) {
	in.Type = kind
	// The url is WhatsApp's encrypted .enc file, useless without the media key:
	// the message id is what fetches the media through Evolution.
	in.Media = append(in.Media, memory.Media{Type: kind, MIME: m.MimeType, PlatformID: in.ExternalID, Caption: m.Caption,
		FileName: m.FileName, Title: m.Title, Seconds: m.Seconds})
	in.Text = m.Caption
}

// attachEvoBase64 gives the message's one file its bytes when the webhook
// carried them; bytes that are not base64 are ignored (the job downloads).
func (in *Inbound) attachEvoBase64(b64 string) {
	if b64 == "" || len(in.Media) != 1 {
		return
	}
	if _, data, ok := strings.Cut(b64, "base64,"); ok {
		b64 = data // a data: URL on some versions
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil || len(data) == 0 {
		return
	}
	in.Media[0].Data = data
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
		recipient := "" // only a phone jid names the customer; a LID would make a second contact
		if user, ok := strings.CutSuffix(u.RemoteJID, "@s.whatsapp.net"); ok {
			recipient = user
		}
		b.Statuses = append(b.Statuses, Status{ExternalID: id, Status: status, Recipient: recipient})
	}
	return b
}

// evolution is the Evolution API adapter, the WhatsApp Web gateway.
// Its replies need nothing but the address (asIs).
type evolution struct{ asIs }

// Kind is KindEvolution.
func (evolution) Kind() Kind { return KindEvolution }

// Capabilities: the instance, where it runs and its apikey.
func (evolution) Capabilities() Capabilities {
	return Capabilities{RequiredSettings: []string{"instance", "base_url"}, RequiredSecrets: []string{"apikey"}, StatusRecipients: true}
}

// Open checks the instance's apikey and parses the Evolution envelope.
func (evolution) Open(_ context.Context, ch Channel, d Delivery, _ Replays) (Batch, error) {
	if err := verifyEvolution(ch.Secret("apikey"), d); err != nil {
		return Batch{}, err
	}
	return ParseEvolution(d.Body)
}

// Rules are WhatsApp's; a WhatsApp Web session has no messaging window.
func (evolution) Rules() Rules { return whatsAppRules(KindEvolution) }

// Address is the contact's phone, else its linked-device id as a remoteJid.
func (evolution) Address(ids []memory.Identity) (string, bool) {
	if to, ok := phoneOf(ids); ok {
		return to, true
	}
	// a linked-device id with no phone behind it: Evolution answers the
	// remoteJid as it came ("…@lid"); a gateway too old to route it refuses
	// the send, and the failure is on the timeline with its reason
	if lid, ok := identityOf(ids, memory.KindWhatsAppLID); ok {
		return lid + "@lid", true
	}
	return "", false
}

// Send posts to the instance's sendText or sendMedia.
func (evolution) Send(ctx context.Context, via *Platforms, ch Channel, m PlatformMessage) (string, error) {
	base := baseURL(ch, "") + "/message/"
	headers := map[string]string{"apikey": ch.Secret("apikey")}
	var body map[string]any
	var url string
	if m.Media != nil {
		url = base + "sendMedia/" + ch.Settings["instance"]
		body = map[string]any{"number": m.To, "mediatype": waMediaKind(m.Media.Type), "media": m.Media.URL, "caption": m.Text}
	} else {
		url = base + "sendText/" + ch.Settings["instance"]
		body = map[string]any{"number": m.To, "text": m.Text, "linkPreview": false}
	}
	var out struct {
		Key struct{ ID string } `json:"key"`
	}
	if err := via.postJSON(ctx, url, headers, body, &out); err != nil {
		return "", err
	}
	if out.Key.ID == "" {
		return "", &SendError{Reason: "Evolution answered without key.id"}
	}
	return out.Key.ID, nil
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

// evoDeletions reads messages.delete: the messages a person deleted for
// everyone, as deletion annotations of them.
func evoDeletions(data json.RawMessage, b Batch) Batch {
	for _, raw := range oneOrList(data) {
		var d struct {
			ID        string  `json:"id"`
			RemoteJID string  `json:"remoteJid"`
			FromMe    bool    `json:"fromMe"`
			Key       *evoKey `json:"key"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			b.skip("", fmt.Errorf("data: %w", err))
			continue
		}
		if d.Key != nil {
			d.ID, d.RemoteJID, d.FromMe = cmp.Or(d.ID, d.Key.ID), cmp.Or(d.RemoteJID, d.Key.RemoteJID), d.FromMe || d.Key.FromMe
		}
		if d.ID == "" {
			continue
		}
		a := Annotation{ExternalID: "delete:" + d.ID, Target: d.ID, Kind: AnnotationDelete, FromBusiness: d.FromMe}
		if user, _, ok := strings.Cut(d.RemoteJID, "@"); ok && strings.HasSuffix(d.RemoteJID, "@s.whatsapp.net") {
			if id, ok := memory.WhatsAppSender(user); ok {
				a.From.Identities = []memory.Identity{id}
			}
		}
		b.Annotations = append(b.Annotations, a)
	}
	return b
}
