package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/atende/atende/internal/browser"
	"github.com/atende/atende/internal/fakes"
)

// Issue 13 end to end: customers' files come in through the real webhooks of
// `atende serve`, are fetched from the platforms (local fakes speaking their
// protocols) or kept from the delivery, served back with their bytes and
// type, transcribed when they are voice notes, answered by what they say,
// and shown on the attendant's card in a real browser.

// The files, with the magic bytes the type sniffer and the browser read.
var (
	waVoice = oggOpus("whatsapp: quero a segunda via do meu boleto")
	tgVoice = oggOpus("telegram: quais as formas de pagamento?")
	waPhoto = pngImage(48, 32, color.RGBA{R: 30, G: 160, B: 90, A: 255})
	evoJPEG = jpegImage(40, 30, color.RGBA{R: 200, G: 40, B: 40, A: 255})
	waPDF   = pdfOf(3000) // the card shows "3 KB"
	mailPDF = pdfOf(1200)
)

// The words the transcription fake hears in each voice note.
const (
	waSaid = "quero a segunda via do meu boleto"
	tgSaid = "quais as formas de pagamento? aceita pix?"
)

// TestMediaFromEveryChannelIsKeptServedTranscribedAndShown: a WhatsApp Cloud
// voice note, a photo of a Pix receipt and a PDF; a Telegram voice note; an
// Evolution photo that came with its bytes; an e-mail with a PDF attached.
// Each file is served back byte for byte with its type (to its account
// only); the voice notes are transcribed and answered by what they say; the
// receipt opens a billing card, which an attendant opens in Chromium and
// sees the photo, the player with the transcript and the PDF.
func TestMediaFromEveryChannelIsKeptServedTranscribedAndShown(t *testing.T) {
	stt := fakes.NewTranscriber(t)
	stt.APIKey = "sk-transcribe-test"
	stt.Text = func(file []byte) string {
		switch {
		case bytes.Equal(file, waVoice):
			return waSaid
		case bytes.Equal(file, tgVoice):
			return tgSaid
		}
		return "áudio desconhecido"
	}
	srv := startServerWith(t, "atd_media_e2e_key_0123456789", 1, map[string]string{
		"ATENDE_MEDIA_DIR":           t.TempDir(),
		"ATENDE_TRANSCRIBE_PROVIDER": "openai",
		"ATENDE_TRANSCRIBE_BASE_URL": stt.BaseURL(),
		"ATENDE_TRANSCRIBE_MODEL":    "whisper-1",
		"ATENDE_TRANSCRIBE_API_KEY":  "sk-transcribe-test",
	})
	graph := newMediaGraph(t)
	wa := newWhatsAppMediaChannel(t, srv, graph)
	tg := newTelegramMediaAPI(t)
	evo := newEvolutionAPI(t)

	// WhatsApp Cloud: the voice note first; the turn waits for its words and
	// answers them (billing's 2nd-copy article), not "I can't listen".
	graph.host("media-voice-1", "audio/ogg; codecs=opus", waVoice)
	wa.send(`{"from":"5521987650000","id":"wamid.voice1","timestamp":"%d","type":"audio",
		"audio":{"mime_type":"audio/ogg; codecs=opus","sha256":"x","id":"media-voice-1","voice":true}}`)
	reply := graph.waitSent(t, 1)[0]
	if !strings.Contains(reply, "2ª via do boleto") || strings.Contains(reply, "consigo ouvir") || strings.Contains(reply, "assistente virtual") {
		t.Fatalf("the reply to the voice note answers its words (%q): %q", waSaid, reply)
	}
	// then a PDF with its name, and last the photo of the receipt
	graph.host("media-pdf-1", "application/pdf", waPDF)
	wa.send(`{"from":"5521987650000","id":"wamid.doc1","timestamp":"%d","type":"document",
		"document":{"filename":"nota-fiscal-4521.pdf","mime_type":"application/pdf","sha256":"x","id":"media-pdf-1"}}`)
	if got := graph.waitSent(t, 2)[1]; !strings.Contains(got, "Recebi seu documento") {
		t.Fatalf("the reply to the PDF: %q", got)
	}
	graph.host("media-photo-1", "image/png", waPhoto)
	wa.send(`{"from":"5521987650000","id":"wamid.photo1","timestamp":"%d","type":"image",
		"image":{"caption":"segue o comprovante do Pix","mime_type":"image/png","sha256":"x","id":"media-photo-1"}}`)
	receipt := graph.waitSent(t, 3)[2]
	if !strings.HasPrefix(receipt, "Recebi seu comprovante, obrigado!") {
		t.Fatalf("the reply to the receipt: %q", receipt)
	}

	// Telegram: a voice note fetched through getFile, answered by its words.
	tgCh := createChannel(t, srv, "telegram", map[string]string{"base_url": tg.URL},
		map[string]string{"bot_token": tg.token, "secret_token": "tg-secret-token"})
	tg.host("AwACAgEAAxkBAAIEFGc_voice", "voice/file_7.oga", tgVoice)
	deliver(t, srv, "/webhooks/telegram/"+tgCh, map[string]string{"X-Telegram-Bot-Api-Secret-Token": "tg-secret-token"},
		fmt.Appendf(nil, `{"update_id":813457203,"message":{"message_id":1044,"from":{"id":5123456789,"is_bot":false,"first_name":"Maria","last_name":"Silva"},
		"chat":{"id":5123456789,"first_name":"Maria","type":"private"},"date":%d,
		"voice":{"duration":4,"mime_type":"audio/ogg","file_id":"AwACAgEAAxkBAAIEFGc_voice","file_unique_id":"AgADnQUAAnkT0UU","file_size":%d}}}`,
			time.Now().Unix(), len(tgVoice)))
	tgReply := tg.waitSent(t, 1)[0]
	if !strings.Contains(tgReply, "Aceitamos pix (5% de desconto)") || strings.Contains(tgReply, "consigo ouvir") {
		t.Fatalf("the Telegram reply answers the voice note's words (%q): %q", tgSaid, tgReply)
	}

	// Evolution: the photo came inside the webhook (WEBHOOK_BASE64): kept as it came.
	evoCh := createChannel(t, srv, "evolution", map[string]string{"base_url": evo.URL, "instance": "loja-centro"},
		map[string]string{"apikey": "evo-apikey-0123"})
	deliver(t, srv, "/webhooks/evolution/"+evoCh, map[string]string{"apikey": "evo-apikey-0123"},
		fmt.Appendf(nil, `{"event":"messages.upsert","instance":"loja-centro","data":{"key":{"remoteJid":"5511987654321@s.whatsapp.net","fromMe":false,"id":"520D4C0A6197694230BBC9B14833F7F8"},
		"pushName":"Carla Dias","message":{"imageMessage":{"url":"https://mmg.whatsapp.net/v/t62.7118-24/1_n.enc","mimetype":"image/jpeg","caption":"essa é a cor que eu quero"},"base64":%q},
		"messageType":"imageMessage","messageTimestamp":%d}}`, base64.StdEncoding.EncodeToString(evoJPEG), time.Now().Unix()))
	evo.waitSent(t, 1)

	// E-mail (Postmark): the attachment's bytes are in the post.
	mailCh := createChannel(t, srv, "email", map[string]string{"provider": "postmark", "address": "atendimento@loja.demo"},
		map[string]string{"inbound_token": "postmark-inbound-token"})
	deliver(t, srv, "/webhooks/email/"+mailCh+"?token=postmark-inbound-token", nil, fmt.Appendf(nil, `{"FromName":"Bruno Lima","From":"bruno@exemplo.com.br",
		"Subject":"Nota do pedido 4521","Date":%q,"TextBody":"Segue em anexo a nota do pedido 4521.","StrippedTextReply":"Segue em anexo a nota do pedido 4521.",
		"Headers":[{"Name":"Message-ID","Value":"<nota-4521@exemplo.com.br>"}],
		"Attachments":[{"Name":"nota-4521.pdf","ContentType":"application/pdf","Content":%q,"ContentLength":%d}]}`,
		time.Now().Format(time.RFC1123Z), base64.StdEncoding.EncodeToString(mailPDF), len(mailPDF)))

	// Every file is served back: its bytes, its type.
	joana := contactOf(t, srv, "whatsapp:5521987650000")
	maria := contactOf(t, srv, "telegram:5123456789")
	carla := contactOf(t, srv, "phone:+5511987654321")
	bruno := contactOf(t, srv, "email:bruno@exemplo.com.br")
	files := []struct {
		name, contact, kind string
		want                []byte
		mime, file, caption string
		seconds             int
	}{
		{"WhatsApp voice note", joana, "voice", waVoice, "audio/ogg", "", "", 0},
		{"WhatsApp PDF", joana, "document", waPDF, "application/pdf", "nota-fiscal-4521.pdf", "", 0},
		{"WhatsApp photo", joana, "image", waPhoto, "image/png", "", "segue o comprovante do Pix", 0},
		{"Telegram voice note", maria, "voice", tgVoice, "audio/ogg", "", "", 4},
		{"Evolution photo", carla, "image", evoJPEG, "image/jpeg", "", "essa é a cor que eu quero", 0},
		{"e-mail attachment", bruno, "document", mailPDF, "application/pdf", "nota-4521.pdf", "nota-4521.pdf", 0},
	}
	ids := map[string]string{}
	for _, f := range files {
		m := waitMedia(t, srv, f.contact, f.kind, "stored")
		body, ctype, code := getMedia(t, srv.base, srv.key, m.ID)
		if code != http.StatusOK || !bytes.Equal(body, f.want) || ctype != f.mime {
			t.Errorf("%s: GET /api/v1/media/%s = %d %q, %d bytes (want %q, %d bytes, the same)", f.name, m.ID, code, ctype, len(body), f.mime, len(f.want))
		}
		if m.Mime != f.mime || m.Size != int64(len(f.want)) || m.FileName != f.file || m.Caption != f.caption || m.Seconds != f.seconds {
			t.Errorf("%s on the timeline: %+v", f.name, m)
		}
		ids[f.name] = m.ID
	}

	// The Evolution photo was never downloaded: no job, no call.
	pool := srvPool(t, srv)
	var fetches int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'media_fetch' AND args->>'file_id' = $1`,
		ids["Evolution photo"]).Scan(&fetches); err != nil {
		t.Fatal(err)
	}
	if fetches != 0 || evo.base64Calls() != 0 {
		t.Errorf("a file that came in the webhook is not fetched again: %d jobs, %d getBase64FromMediaMessage calls", fetches, evo.base64Calls())
	}

	// The voice notes' words: on the timeline, in the memory the agents read,
	// in the history's chunks; the provider got the ogg as an ogg.
	for _, v := range []struct{ who, contact, said string }{{"WhatsApp", joana, waSaid}, {"Telegram", maria, tgSaid}} {
		m := waitMedia(t, srv, v.contact, "voice", "stored")
		if m.Transcript != v.said || m.WordsStatus != "done" {
			t.Errorf("%s voice note's transcript on the timeline: %q (%s)", v.who, m.Transcript, m.WordsStatus)
		}
		var view struct {
			Text   string
			Recent []struct {
				Media []struct{ Transcript string }
			} `json:"recent_events"`
		}
		if code := srv.call("GET", "/api/v1/contacts/"+v.contact+"/memory", nil, &view); code != 200 || !strings.Contains(view.Text, v.said) {
			t.Errorf("%s: the memory view the agents read lacks the transcript: %d %q", v.who, code, view.Text)
		}
		heard := false
		for _, e := range view.Recent {
			for _, m := range e.Media {
				heard = heard || m.Transcript == v.said
			}
		}
		if !heard {
			t.Errorf("%s: no recent event of the memory view carries the transcript: %+v", v.who, view.Recent)
		}
		eventually(t, v.who+" transcript in the history's chunks", 20*time.Second, func() bool {
			var n int
			_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM memory_chunks WHERE contact_id = $1 AND text LIKE '%' || $2 || '%'`, v.contact, v.said).Scan(&n)
			return n > 0
		})
	}
	reqs := stt.Requests()
	if len(reqs) != 2 {
		t.Fatalf("two voice notes, %d transcriptions", len(reqs))
	}
	for _, r := range reqs {
		if (!bytes.Equal(r.File, waVoice) && !bytes.Equal(r.File, tgVoice)) || r.Model != "whisper-1" || r.Language != "pt" ||
			r.Authorization != "Bearer sk-transcribe-test" || filepath.Ext(r.FileName) != ".ogg" || r.ContentType != "audio/ogg" {
			t.Errorf("transcription request: file %q %q (%d bytes), model %q, language %q, auth %q",
				r.FileName, r.ContentType, len(r.File), r.Model, r.Language, r.Authorization)
		}
	}

	// The receipt: a billing card whose next action is to check it.
	var list struct{ Handoffs []cardBody }
	srv.call("GET", "/api/v1/handoffs?contact_id="+joana, nil, &list)
	if len(list.Handoffs) != 1 {
		t.Fatalf("one card for the receipt, got %+v", list.Handoffs)
	}
	card := list.Handoffs[0]
	if card.Reason != "payment_proof" || card.Sector != "billing" || card.NextAction != "Conferir o comprovante anexado e dar baixa no pagamento" {
		t.Fatalf("the receipt's card: %+v", card)
	}

	// Another account's key sees none of these files.
	var out bytes.Buffer
	if err := runAccounts(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), []string{"create", "-slug", "loja-b", "-name", "Loja B"}, &out); err != nil {
		t.Fatal(err)
	}
	other := regexp.MustCompile(`api key: (\S+)`).FindStringSubmatch(out.String())
	if other == nil {
		t.Fatalf("no key printed: %s", out.String())
	}
	for name, id := range ids {
		if _, _, code := getMedia(t, srv.base, other[1], id); code != http.StatusNotFound {
			t.Errorf("%s with another account's key: %d, want 404", name, code)
		}
	}

	// The card in a real browser.
	inboxShowsTheMedia(t, srv, card.ID, ids)
}

// inboxShowsTheMedia logs the demo attendant in and opens the card: the
// photo is a thumbnail that loaded, the voice note a player whose file is
// served, with its transcript under it, and the PDF a link with its name
// and size.
func inboxShowsTheMedia(t *testing.T, srv *runningServer, cardID string, ids map[string]string) {
	t.Helper()
	ctx := browser.New(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.base+"/inbox/handoffs/"+cardID),
		chromedp.WaitVisible(chromedp.CSS("form[action='/inbox/login'] input[name=email]")),
		chromedp.SetValue(chromedp.CSS("input[name=empresa]"), DemoAccountSlug),
		chromedp.SendKeys(chromedp.CSS("input[name=email]"), DemoAttendantEmail),
		chromedp.SendKeys(chromedp.CSS("input[name=senha]"), DemoAttendantPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#timeline .events")),
	)
	if err != nil {
		t.Fatalf("log in and open the card: %v", err)
	}
	// The thumbnail is lazy: brought into view, it loads.
	loaded, err := chromedp.Run(ctx, chromedp.Poll[string](`(function(){
		var img = document.querySelector('img.thumb[src="/inbox/media/`+ids["WhatsApp photo"]+`"]');
		if (!img) return false;
		img.scrollIntoView();
		return img.complete && img.naturalWidth > 0 ? img.naturalWidth + 'x' + img.naturalHeight : false;
	})()`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil || loaded != "48x32" {
		t.Fatalf("the photo's thumbnail loaded in the browser: %q %v", loaded, err)
	}
	audio, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async function(){
		var a = document.querySelector('audio[src="/inbox/media/`+ids["WhatsApp voice note"]+`"]');
		if (!a) return 'no audio element';
		var r = await fetch(a.src);
		var b = await r.arrayBuffer();
		return r.status + ' ' + r.headers.get('content-type') + ' ' + b.byteLength + ' ' +
			a.closest('figure').querySelector('figcaption.transcript').innerText;
	})()`, chromedp.EvalAwaitPromise))
	if want := fmt.Sprintf("200 audio/ogg %d Transcrição: «%s»", len(waVoice), waSaid); err != nil || audio != want {
		t.Fatalf("the voice note's player and transcript: %q %v (want %q)", audio, err, want)
	}
	doc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){
		var a = document.querySelector('a.doc[href="/inbox/media/`+ids["WhatsApp PDF"]+`"]');
		return a ? a.innerText + ' | ' + a.parentElement.querySelector('.size').innerText : 'no link';
	})()`))
	if err != nil || doc != "📄 nota-fiscal-4521.pdf | 3 KB" {
		t.Fatalf("the PDF's link: %q %v", doc, err)
	}
	// the voice note at the top of the timeline, the PDF and the photo under it
	_, _ = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('audio').closest('li, .event, div').scrollIntoView({block: 'start'}), true`))
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: a PNG of the whole page
	if err != nil || !bytes.HasPrefix(shot, []byte("\x89PNG\r\n\x1a\n")) || len(shot) < 10000 {
		t.Fatalf("screenshot: %d bytes, %v", len(shot), err)
	}
	dir := os.Getenv("ATENDE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "inbox-card-media.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the card: %s", path)
}

// TestMediaWithoutTranscriptionOrOutsideThePolicy: with no transcription
// provider a voice note is answered in WhatsApp's words that it cannot be
// heard; and a file whose URL Graph gives at an address the outbound policy
// does not allow (loopback beyond the one address allowed here) is never
// fetched: failed, and 410 to whoever asks for it.
func TestMediaWithoutTranscriptionOrOutsideThePolicy(t *testing.T) {
	// An internal service on 127.0.0.2, outside 127.0.0.1/32: what a
	// poisoned media URL would point at.
	internal := newInternalServer(t)
	srv := startServerWith(t, "atd_media_e2e_strict_key_0123456789", 1, map[string]string{
		"ATENDE_MEDIA_DIR":      t.TempDir(),
		"ATENDE_OUTBOUND_ALLOW": "127.0.0.1/32", // the Graph fake, and nothing else of loopback
	})
	graph := newMediaGraph(t)
	wa := newWhatsAppMediaChannel(t, srv, graph)
	graph.host("media-voice-2", "audio/ogg; codecs=opus", waVoice)
	wa.send(`{"from":"5521987650000","id":"wamid.voice2","timestamp":"%d","type":"audio",
		"audio":{"mime_type":"audio/ogg; codecs=opus","sha256":"x","id":"media-voice-2","voice":true}}`)
	reply := graph.waitSent(t, 1)[0]
	if !strings.Contains(reply, "não consigo ouvir") {
		t.Fatalf("without transcription the voice note is acknowledged as unheard: %q", reply)
	}
	joana := contactOf(t, srv, "whatsapp:5521987650000")
	voice := waitMedia(t, srv, joana, "voice", "stored")
	if voice.Transcript != "" || voice.WordsStatus != "" {
		t.Fatalf("no provider, no transcript: %+v", voice)
	}

	graph.hostAt("media-photo-2", "image/png", waPhoto, internal.URL+"/whatsapp_business/attachments/?mid=media-photo-2")
	wa.send(`{"from":"5521987650000","id":"wamid.photo2","timestamp":"%d","type":"image",
		"image":{"mime_type":"image/png","sha256":"x","id":"media-photo-2"}}`)
	photo := waitMedia(t, srv, joana, "image", "failed")
	if !strings.Contains(photo.Error, "outbound policy") {
		t.Errorf("the failure says why: %q", photo.Error)
	}
	if _, _, code := getMedia(t, srv.base, srv.key, photo.ID); code != http.StatusGone {
		t.Errorf("GET a file that could not be fetched: %d, want 410", code)
	}
	if n := internal.hits(); n != 0 {
		t.Errorf("the internal address was reached %d times", n)
	}
}

// mediaGraph is a local WhatsApp Cloud API: Graph's media endpoint
// (GET /{media-id} → its URL) and the URL's bytes, both with the channel's
// token only, and /{phone-number-id}/messages, which records the replies.
type mediaGraph struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string]graphFile
	texts []string
}

type graphFile struct {
	mime string
	data []byte
	url  string // where Graph says the bytes are ("": here)
}

const graphToken = "EAAG-media-token"

func newMediaGraph(t *testing.T) *mediaGraph {
	g := &mediaGraph{files: map[string]graphFile{}}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+graphToken {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}`)
			return
		}
		path := strings.Trim(r.URL.Path, "/")
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(path, "/messages"):
			var body struct {
				Text struct{ Body string } `json:"text"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			g.mu.Lock()
			g.texts = append(g.texts, body.Text.Body)
			n := len(g.texts)
			g.mu.Unlock()
			fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":"5521987650000","wa_id":"5521987650000"}],"messages":[{"id":"wamid.reply%d"}]}`, n)
		case r.Method == http.MethodGet && path == "whatsapp_business/attachments":
			f, ok := g.file(r.URL.Query().Get("mid"))
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", f.mime)
			_, _ = w.Write(f.data)
		case r.Method == http.MethodGet:
			f, ok := g.file(path)
			if !ok {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"error":{"message":"Unsupported get request.","type":"GraphMethodException","code":100}}`)
				return
			}
			sum := sha256.Sum256(f.data)
			u := f.url
			if u == "" {
				u = g.URL + "/whatsapp_business/attachments/?mid=" + path
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"messaging_product": "whatsapp", "url": u, "mime_type": f.mime,
				"sha256": hex.EncodeToString(sum[:]), "file_size": len(f.data), "id": path})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(g.Close)
	return g
}

// host makes a media id's file available, at Graph's own URL.
func (g *mediaGraph) host(id, mime string, data []byte) { g.hostAt(id, mime, data, "") }

// hostAt makes Graph say the media id's bytes are at url.
func (g *mediaGraph) hostAt(id, mime string, data []byte, url string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.files[id] = graphFile{mime: mime, data: data, url: url}
}

func (g *mediaGraph) file(id string) (graphFile, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f, ok := g.files[id]
	return f, ok
}

func (g *mediaGraph) waitSent(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	eventually(t, fmt.Sprintf("%d replies at the WhatsApp API", n), 45*time.Second, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		got = append([]string(nil), g.texts...)
		return len(got) >= n
	})
	return got
}

// whatsAppMediaChannel is a WhatsApp Cloud channel at the Graph fake.
type whatsAppMediaChannel struct {
	t   *testing.T
	srv *runningServer
	id  string
}

func newWhatsAppMediaChannel(t *testing.T, srv *runningServer, g *mediaGraph) *whatsAppMediaChannel {
	id := createChannel(t, srv, "whatsapp", map[string]string{"phone_number_id": "110220330440550", "base_url": g.URL},
		map[string]string{"app_secret": "app-secret", "verify_token": "v", "access_token": graphToken})
	return &whatsAppMediaChannel{t: t, srv: srv, id: id}
}

// send posts one customer message (JSON with a %d for its timestamp) as
// Meta does: in the change envelope, signed with the app secret.
func (c *whatsAppMediaChannel) send(message string) {
	c.t.Helper()
	body := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
		"metadata":{"display_phone_number":"551140028922","phone_number_id":"110220330440550"},
		"contacts":[{"profile":{"name":"Joana Prado"},"wa_id":"5521987650000"}],"messages":[`+message+`]}}]}]}`, time.Now().Unix())
	mac := hmac.New(sha256.New, []byte("app-secret"))
	mac.Write(body)
	deliver(c.t, c.srv, "/webhooks/whatsapp/"+c.id, map[string]string{"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil))}, body)
}

// telegramMediaAPI is a local Telegram Bot API: getFile, the file download
// and sendMessage, for its bot token only.
type telegramMediaAPI struct {
	*httptest.Server
	token string
	mu    sync.Mutex
	files map[string]tgHosted // by file_id
	texts []string
}

type tgHosted struct {
	path string
	data []byte
}

func newTelegramMediaAPI(t *testing.T) *telegramMediaAPI {
	tg := &telegramMediaAPI{token: "7001:AAH-media-e2e", files: map[string]tgHosted{}}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.mu.Lock()
		defer tg.mu.Unlock()
		notFound := func() {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
		}
		switch {
		case r.URL.Path == "/bot"+tg.token+"/getFile":
			f, ok := tg.files[r.URL.Query().Get("file_id")]
			if !ok {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"ok":false,"error_code":400,"description":"Bad Request: invalid file_id"}`)
				return
			}
			fmt.Fprintf(w, `{"ok":true,"result":{"file_id":%q,"file_unique_id":"AgADnQUAAnkT0UU","file_size":%d,"file_path":%q}}`,
				r.URL.Query().Get("file_id"), len(f.data), f.path)
		case strings.HasPrefix(r.URL.Path, "/file/bot"+tg.token+"/"):
			path := strings.TrimPrefix(r.URL.Path, "/file/bot"+tg.token+"/")
			for _, f := range tg.files {
				if f.path == path {
					w.Header().Set("Content-Type", "application/octet-stream") // as Telegram's file server does
					_, _ = w.Write(f.data)
					return
				}
			}
			notFound()
		case r.URL.Path == "/bot"+tg.token+"/sendMessage":
			var body struct {
				ChatID int64  `json:"chat_id"`
				Text   string `json:"text"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			tg.texts = append(tg.texts, body.Text)
			fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"chat":{"id":%d,"type":"private"},"date":%d,"text":%q}}`,
				2000+len(tg.texts), body.ChatID, time.Now().Unix(), body.Text)
		default:
			notFound()
		}
	}))
	t.Cleanup(tg.Close)
	return tg
}

func (tg *telegramMediaAPI) host(fileID, path string, data []byte) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.files[fileID] = tgHosted{path: path, data: data}
}

func (tg *telegramMediaAPI) waitSent(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	eventually(t, fmt.Sprintf("%d replies at the Telegram API", n), 45*time.Second, func() bool {
		tg.mu.Lock()
		defer tg.mu.Unlock()
		got = append([]string(nil), tg.texts...)
		return len(got) >= n
	})
	return got
}

// evolutionAPI is a local Evolution API instance: sendText, and
// getBase64FromMediaMessage, which counts its calls.
type evolutionAPI struct {
	*httptest.Server
	mu      sync.Mutex
	texts   []string
	base64s int
}

func newEvolutionAPI(t *testing.T) *evolutionAPI {
	e := &evolutionAPI{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("apikey") != "evo-apikey-0123" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"status":401,"error":"Unauthorized","response":{"message":"Unauthorized"}}`)
			return
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		switch r.URL.Path {
		case "/message/sendText/loja-centro":
			var body struct{ Number, Text string }
			_ = json.NewDecoder(r.Body).Decode(&body)
			e.texts = append(e.texts, body.Text)
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"key":{"remoteJid":"%s@s.whatsapp.net","fromMe":true,"id":"BAE5%012d"},"status":"PENDING"}`, strings.TrimPrefix(body.Number, "+"), len(e.texts))
		case "/chat/getBase64FromMediaMessage/loja-centro":
			e.base64s++
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":400,"error":"Bad Request","response":{"message":"this test's photo came in the webhook"}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *evolutionAPI) base64Calls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.base64s
}

func (e *evolutionAPI) waitSent(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	eventually(t, fmt.Sprintf("%d replies at the Evolution API", n), 45*time.Second, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		got = append([]string(nil), e.texts...)
		return len(got) >= n
	})
	return got
}

// internalServer listens on 127.0.0.2: an address of this machine the
// test's outbound policy does not allow.
type internalServer struct {
	*httptest.Server
	mu sync.Mutex
	n  int
}

func newInternalServer(t *testing.T) *internalServer {
	s := &internalServer{}
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 on this machine: %v", err)
	}
	s.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.n++
		s.mu.Unlock()
		_, _ = w.Write(waPhoto)
	})}}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *internalServer) hits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// createChannel creates a channel through the API and returns its id.
func createChannel(t *testing.T, srv *runningServer, kind string, settings, secrets map[string]string) string {
	t.Helper()
	var ch struct{ ID string }
	if code := srv.call("POST", "/api/v1/channels", map[string]any{"kind": kind, "name": kind + " da loja", "settings": settings, "secrets": secrets}, &ch); code != http.StatusCreated {
		t.Fatalf("create the %s channel: HTTP %d", kind, code)
	}
	return ch.ID
}

// deliver posts a platform's delivery and wants it taken.
func deliver(t *testing.T, srv *runningServer, path string, headers map[string]string, body []byte) {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	if code, answer := postWebhook(t, srv.base, webhook{Path: path, Body: body, Headers: h}); code/100 != 2 {
		t.Fatalf("webhook %s: HTTP %d %s", path, code, answer)
	}
}

// contactOf is the id of the contact with the identity ("kind:value").
func contactOf(t *testing.T, srv *runningServer, identity string) string {
	t.Helper()
	var found struct{ Contacts []struct{ ID string } }
	eventually(t, "the contact "+identity, 10*time.Second, func() bool {
		srv.call("GET", "/api/v1/contacts?identity="+url.QueryEscape(identity), nil, &found)
		return len(found.Contacts) == 1
	})
	return found.Contacts[0].ID
}

// timelineMedia is a media item as the timeline shows it.
type timelineMedia struct {
	ID          string
	Type        string
	Status      string
	Mime        string
	Size        int64
	FileName    string `json:"file_name"`
	Caption     string
	Seconds     int
	Transcript  string
	WordsStatus string `json:"words_status"`
	Error       string
}

// waitMedia waits until the contact's timeline has a media item of the kind
// in that status (with its transcript settled when it is to have one) and
// returns it.
func waitMedia(t *testing.T, srv *runningServer, contact, kind, status string) timelineMedia {
	t.Helper()
	var got timelineMedia
	var seen []timelineMedia
	deadline := time.Now().Add(45 * time.Second)
	for {
		var page struct {
			Events []struct{ Media []timelineMedia }
		}
		srv.call("GET", "/api/v1/contacts/"+contact+"/timeline?limit=200", nil, &page)
		seen = seen[:0]
		for _, e := range page.Events {
			for _, m := range e.Media {
				seen = append(seen, m)
				if m.Type == kind && m.Status == status && m.WordsStatus != "pending" {
					got = m
				}
			}
		}
		if got.ID != "" {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s %s on the timeline of %s: %+v", status, kind, contact, seen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// getMedia fetches /api/v1/media/{id} with key.
func getMedia(t *testing.T, base, key, id string) (body []byte, contentType string, code int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/media/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET media %s: %v", id, err)
	}
	defer resp.Body.Close()
	body, _ = io.ReadAll(resp.Body)
	return body, resp.Header.Get("Content-Type"), resp.StatusCode
}

// oggOpus is the opening of an Ogg Opus voice note (the OggS page with its
// OpusHead), then speech we never decode: the fake tells notes by content.
func oggOpus(speech string) []byte {
	head := []byte("OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
	page := []byte("OggS\x00\x02")
	page = append(page, make([]byte, 8)...)        // granule position
	page = append(page, 0x4f, 0x70, 0x75, 0x73)    // serial
	page = append(page, 0, 0, 0, 0, 0, 0, 0, 0, 1) // sequence, checksum, one segment
	page = append(page, byte(len(head)))           // its length
	page = append(page, head...)                   // OpusHead
	return append(page, []byte("OggS\x00\x00"+speech)...)
}

func pngImage(w, h int, c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func jpegImage(w, h int, c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 80})
	return b.Bytes()
}

// pdfOf is a one-page PDF padded with a comment to exactly n bytes.
func pdfOf(n int) []byte {
	const open = "%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n" +
		"3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 200 100]>> endobj\ntrailer <</Root 1 0 R>>\n%"
	const end = "\n%%EOF\n"
	return []byte(open + strings.Repeat("x", n-len(open)-len(end)) + end)
}
