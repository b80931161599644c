package agents

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/atende/atende/agents/llm"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/fakes"
	"github.com/atende/atende/internal/notify"
	"github.com/atende/atende/internal/testdb"
	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
)

// speech is a transcription provider played by the test: each call waits
// for the test to hand it the words (or an error).
type speech struct {
	heard  chan []byte
	answer chan media.Transcript
}

func (s *speech) Transcribe(ctx context.Context, audio io.Reader, _, _ string) (media.Transcript, error) {
	b, err := io.ReadAll(audio)
	if err != nil {
		return media.Transcript{}, err
	}
	s.heard <- b
	select {
	case t := <-s.answer:
		return t, nil
	case <-ctx.Done():
		return media.Transcript{}, ctx.Err()
	}
}

// waitSeen tells the test when a turn found its voice note still being
// transcribed, so the words are given while it waits, not before.
type waitSeen struct {
	files   *media.Files
	waiting chan struct{}
}

func (w *waitSeen) AwaitingWords(ctx context.Context, accountID uuid.UUID, ids []int64) (bool, error) {
	yes, err := w.files.AwaitingWords(ctx, accountID, ids)
	if yes {
		select {
		case w.waiting <- struct{}{}:
		default:
		}
	}
	return yes, err
}

// transcriptEnv is the orchestrator with a transcription provider: voice
// notes that arrive with their bytes are kept, marked as awaited, and the
// turn waits for their words.
type transcriptEnv struct {
	*env
	files  *media.Files
	blobs  media.Blobs
	seen   *waitSeen
	hub    *notify.Hub
	ingest *channels.Ingestor
}

func newTranscriptEnv(t *testing.T, wait time.Duration) *transcriptEnv {
	t.Helper()
	pool, _ := testdb.New(t)
	files := media.NewFiles(pool)
	seen := &waitSeen{files: files, waiting: make(chan struct{}, 1)}
	hub := notify.New(pool)
	e := newEnvWith(t, pool, false, func(d *Deps) { d.Transcripts, d.Listener, d.TranscriptWait = seen, hub, wait })
	blobs, err := media.NewDisk(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	ing := channels.NewIngestor(pool, e.mem, nil).WithMedia(channels.NewMediaJobs(e.inserter, files, blobs, media.WordsFor{Transcribe: true}))
	return &transcriptEnv{env: e, files: files, blobs: blobs, seen: seen, hub: hub, ingest: ing}
}

// voiceNote stores a Telegram voice note whose bytes came with it.
func (e *transcriptEnv) voiceNote(t *testing.T) (contact, conversation uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	msg := channels.Inbound{ExternalID: uuid.NewString(), Type: "audio", At: time.Now(),
		Media: []memory.Media{{Type: "voice", MIME: "audio/ogg", PlatformID: "voice-1", Seconds: 4, Data: append([]byte("OggS"), make([]byte, 300)...)}},
		From:  channels.Sender{Name: "Marcos Lima", Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "424242"}}}}
	if _, err := e.ingest.Ingest(ctx, e.ch, channels.Batch{Messages: []channels.Inbound{msg}}); err != nil {
		t.Fatal(err)
	}
	c, err := e.mem.FindByIdentity(ctx, e.acct, memory.Identity{Kind: memory.KindTelegram, Value: "424242"})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID, *mustConversation(t, e.env, c.ID)
}

// turnJob runs the turn as River would, through the worker (which waits).
func (e *transcriptEnv) turnJob(contact, conversation uuid.UUID) <-chan error {
	done := make(chan error, 1)
	w := NewTurnWorker(e.orch, 0)
	job := &river.Job[TurnArgs]{JobRow: &rivertype.JobRow{CreatedAt: time.Now(), Attempt: 1, MaxAttempts: 5},
		Args: TurnArgs{AccountID: e.acct, ConversationID: conversation, ContactID: contact}}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), TurnTimeout)
		defer cancel()
		done <- w.Work(ctx, job)
	}()
	return done
}

// transcribe runs the transcription job of the contact's voice note.
func (e *transcriptEnv) transcribe(t *testing.T, sp media.SpeechToText, eventID int64) <-chan error {
	t.Helper()
	files, err := e.files.OfEvent(context.Background(), e.acct, eventID)
	if err != nil || len(files) != 1 {
		t.Fatalf("the voice note's file: %+v %v", files, err)
	}
	w := media.NewWordsWorker(media.WordsDeps{Pool: e.pool, Memory: e.mem, Files: e.files, Blobs: e.blobs, Speech: sp, Wakes: e.hub})
	done := make(chan error, 1)
	go func() {
		done <- w.Work(context.Background(), &river.Job[media.WordsArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 4},
			Args: media.WordsArgs{AccountID: e.acct, FileID: files[0].ID}})
	}()
	return done
}

func lastInbound(t *testing.T, e *env, contact uuid.UUID) memory.Event {
	t.Helper()
	page, err := e.mem.Timeline(context.Background(), e.acct, contact, nil, 500)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(page.Events) - 1; i >= 0; i-- {
		if ev := page.Events[i]; ev.Kind == memory.EventMessage && ev.Direction == memory.DirectionIn {
			return ev
		}
	}
	t.Fatal("no inbound message")
	return memory.Event{}
}

// A voice note is answered for what it says: the turn waits while the
// provider transcribes, wakes when the words are written, and routes them;
// the transcript is on the message and in the embedded history (issue 13).
func TestATurnWaitsForTheVoiceNotesWords(t *testing.T) {
	e := newTranscriptEnv(t, 30*time.Second)
	contact, conversation := e.voiceNote(t)
	voice := lastInbound(t, e.env, contact)
	sp := &speech{heard: make(chan []byte, 1), answer: make(chan media.Transcript)}
	transcribed := e.transcribe(t, sp, voice.ID)
	if got := <-sp.heard; !strings.HasPrefix(string(got), "OggS") {
		t.Fatalf("the provider heard %q", got[:min(8, len(got))])
	}
	turn := e.turnJob(contact, conversation)
	<-e.seen.waiting // the turn found the voice note being transcribed
	sp.answer <- media.Transcript{Text: "  preciso da segunda via do meu boleto que venceu  "}
	if err := <-transcribed; err != nil {
		t.Fatal(err)
	}
	if err := <-turn; err != nil {
		t.Fatal(err)
	}
	replies := e.replies(t, contact)
	if len(replies) != 1 || strings.Contains(replies[0], "ouvir") || strings.Contains(replies[0], "assistente virtual") {
		t.Fatalf("the reply to a transcribed voice note: %q", replies)
	}
	conv, err := e.orch.conversations.Get(context.Background(), e.acct, conversation)
	if err != nil || conv.Sector != "billing" {
		t.Fatalf("the voice note about a boleto went to %q (%v)", conv.Sector, err)
	}
	voice = lastInbound(t, e.env, contact)
	if voice.Media[0].Transcript != "preciso da segunda via do meu boleto que venceu" || voice.Text != "" {
		t.Fatalf("the message after transcription: text %q media %+v", voice.Text, voice.Media)
	}
	files, err := e.files.OfEvent(context.Background(), e.acct, voice.ID)
	if err != nil || files[0].WordsStatus != media.WordsDone {
		t.Fatalf("the file's transcription: %+v %v", files, err)
	}
	if _, err := e.mem.ChunkContact(context.Background(), e.acct, contact); err != nil {
		t.Fatal(err)
	}
	var chunk string
	if err := e.pool.QueryRow(context.Background(), `SELECT string_agg(text, ' ') FROM memory_chunks WHERE account_id = $1 AND contact_id = $2`,
		e.acct, contact).Scan(&chunk); err != nil || !strings.Contains(chunk, "segunda via do meu boleto") {
		t.Fatalf("the embedded history: %q %v", chunk, err)
	}
}

// A transcription that does not come in time is not waited for forever:
// the customer is told the audio could not be heard, in the channel's
// register, and the words are still written when they arrive.
func TestATurnDoesNotWaitForeverForWords(t *testing.T) {
	e := newTranscriptEnv(t, 300*time.Millisecond)
	contact, conversation := e.voiceNote(t)
	if err := <-e.turnJob(contact, conversation); err != nil {
		t.Fatal(err)
	}
	replies := e.replies(t, contact)
	if len(replies) != 1 || !strings.Contains(replies[0], "não consigo ouvir") {
		t.Fatalf("the reply when the words never came: %q", replies)
	}
}

// Without a transcription provider a voice note is acknowledged as an audio
// the assistant cannot listen to, in each channel's register; never the
// greeting, never silence.
func TestCannotListenReadsInTheChannelsRegister(t *testing.T) {
	for _, tc := range []struct {
		kind     channels.Kind
		has, not string
	}{
		{channels.KindWhatsApp, "Oi, Marcos! Recebi seu áudio, mas por aqui ainda não consigo ouvir 🙈", "Recebemos"},
		{channels.KindInstagram, "Oi, Marcos! Recebi seu áudio, mas ainda não consigo ouvir por aqui. Me conta por escrito?", "🙈"},
		{channels.KindTelegram, "Oi, Marcos! Recebi seu áudio, mas ainda não consigo ouvir áudios", "🙈"},
		{channels.KindWebchat, "Olá, Marcos! Recebi seu áudio, mas não consigo ouvi-lo por aqui.", "🙈"},
		{channels.KindEmail, "Recebemos seu áudio, mas não conseguimos ouvi-lo por este canal.", "Oi"},
	} {
		got := mediaReceived(tc.kind, []string{"voice"}, "Marcos")
		if !strings.HasPrefix(got, tc.has) || strings.Contains(got, tc.not) {
			t.Errorf("%s: %q", tc.kind, got)
		}
	}
}

// A photo captioned "segue o comprovante do Pix" is a payment proof: the
// offline engine cannot read it, so billing gets a card to confirm it and
// the customer is told it arrived. The same words without a file, or a
// file with other words, are not (issue 13).
func TestAPaymentProofGoesToBilling(t *testing.T) {
	cases := []struct {
		name    string
		text    string
		media   []memory.Media
		handoff bool
	}{
		{"photo of a Pix", "segue o comprovante do Pix", []memory.Media{{Type: "image", MIME: "image/jpeg", PlatformID: "p1", Caption: "segue o comprovante do Pix"}}, true},
		{"pdf of a transfer", "paguei ontem, ta aí", []memory.Media{{Type: "document", MIME: "application/pdf", PlatformID: "p2", FileName: "transferencia.pdf"}}, true},
		{"words alone", "vou mandar o comprovante do pix", nil, false},
		{"a photo of a product", "olha a foto do tênis que eu quero", []memory.Media{{Type: "image", PlatformID: "p3"}}, false},
		{"pix done", "pix feito agora há pouco", []memory.Media{{Type: "image", PlatformID: "p4"}}, true},
		// a boleto or a Pix named is not one paid: the customer asks, and is
		// not told "Recebi seu comprovante"
		{"a boleto with a problem", "o boleto veio com o valor errado", []memory.Media{{Type: "image", PlatformID: "p5"}}, false},
		{"a boleto that fails", "não consigo pagar esse boleto, dá erro", []memory.Media{{Type: "image", PlatformID: "p6"}}, false},
		{"not paid yet", "ainda não paguei, segue a foto do boleto", []memory.Media{{Type: "image", PlatformID: "p8"}}, false},
		{"asking for the pix key", "qual a chave pix de vocês? mandei a foto da fatura", []memory.Media{{Type: "image", PlatformID: "p7"}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pool, _ := testdb.New(t)
			e := newEnvOn(t, pool, true)
			ctx := context.Background()
			msg := channels.Inbound{ExternalID: uuid.NewString(), Type: "text", Text: tc.text, At: time.Now(), Media: tc.media,
				From: channels.Sender{Name: "Marcos Lima", Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "424242"}}}}
			if _, err := e.ing.Ingest(ctx, e.ch, channels.Batch{Messages: []channels.Inbound{msg}}); err != nil {
				t.Fatal(err)
			}
			c, err := e.mem.FindByIdentity(ctx, e.acct, memory.Identity{Kind: memory.KindTelegram, Value: "424242"})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.orch.Turn(ctx, TurnArgs{AccountID: e.acct, ConversationID: *mustConversation(t, e, c.ID), ContactID: c.ID}); err != nil {
				t.Fatal(err)
			}
			cards, err := handoff.NewService(e.pool, e.mem, e.orch.channels, e.orch.outbox, e.inserter, nil, e.orch.log).List(ctx, e.acct, handoff.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			replies := e.replies(t, c.ID)
			if !tc.handoff {
				for _, h := range cards {
					if h.Reason == ReasonPaymentProof {
						t.Fatalf("%q taken for a payment proof: %+v", tc.text, h)
					}
				}
				return
			}
			if len(cards) != 1 || cards[0].Reason != ReasonPaymentProof || cards[0].Sector != "billing" ||
				cards[0].NextAction != paymentProofNextAction {
				t.Fatalf("the card of a payment proof: %+v", cards)
			}
			if len(replies) != 1 || !strings.HasPrefix(replies[0], "Recebi seu comprovante, obrigado!") {
				t.Fatalf("the reply to a payment proof: %q", replies)
			}
		})
	}
}

// With a chat model that takes images, a photo is described on its message
// by the prompt media.describe (the image sent as an image_url part, never
// as instructions), and the turn reads what it shows: "[imagem enviada: …]"
// instead of "I can't look at images" (issue 13).
func TestAnImageIsDescribedByAModelWithVision(t *testing.T) {
	ai := fakes.NewOpenAI(t, fakes.Reply("Comprovante de Pix de R$ 150,00 para Loja Centro em 30/11/2026."))
	model, err := llm.NewModel(llm.Config{Provider: "openai", Model: "gpt-vision", BaseURL: ai.URL + "/v1", APIKey: "sk"})
	if err != nil {
		t.Fatal(err)
	}
	e := newTranscriptEnv(t, 30*time.Second)
	ctx := context.Background()
	photo := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 200)...)
	ing := channels.NewIngestor(e.pool, e.mem, nil).WithMedia(channels.NewMediaJobs(e.inserter, e.files, e.blobs, media.WordsFor{Describe: true}))
	if _, err := ing.Ingest(ctx, e.ch, channels.Batch{Messages: []channels.Inbound{{ExternalID: uuid.NewString(), Type: "image", At: time.Now(),
		Media: []memory.Media{{Type: "image", MIME: "image/png", PlatformID: "photo-1", Data: photo}},
		From:  channels.Sender{Name: "Marcos Lima", Identities: []memory.Identity{{Kind: memory.KindTelegram, Value: "424242"}}}}}}); err != nil {
		t.Fatal(err)
	}
	c, err := e.mem.FindByIdentity(ctx, e.acct, memory.Identity{Kind: memory.KindTelegram, Value: "424242"})
	if err != nil {
		t.Fatal(err)
	}
	ev := lastInbound(t, e.env, c.ID)
	files, err := e.files.OfEvent(ctx, e.acct, ev.ID)
	if err != nil || len(files) != 1 || files[0].WordsStatus != media.WordsPending {
		t.Fatalf("the photo awaits its words: %+v %v", files, err)
	}
	sight := NewSight(llm.NewEngine(model, 1, 10*time.Second), e.orch.prompts)
	w := media.NewWordsWorker(media.WordsDeps{Pool: e.pool, Memory: e.mem, Files: e.files, Blobs: e.blobs, Sight: sight, Wakes: e.hub})
	if err := w.Work(ctx, &river.Job[media.WordsArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 4},
		Args: media.WordsArgs{AccountID: e.acct, FileID: files[0].ID}}); err != nil {
		t.Fatal(err)
	}
	reqs := ai.Requests()
	if len(reqs) != 1 || !strings.Contains(reqs[0].System, "comprovante") {
		t.Fatalf("the description request: %+v", reqs)
	}
	sent := fmt.Sprint(reqs[0].Messages[len(reqs[0].Messages)-1].Content)
	if !strings.Contains(sent, "image_url") || !strings.Contains(sent, "data:image/png;base64,"+base64.StdEncoding.EncodeToString(photo)) {
		t.Fatalf("the image was not sent as an image_url part: %.300s", sent)
	}
	ev = lastInbound(t, e.env, c.ID)
	if ev.Media[0].Description != "Comprovante de Pix de R$ 150,00 para Loja Centro em 30/11/2026." {
		t.Fatalf("the photo's description: %+v", ev.Media[0])
	}
	if got := joinTexts([]memory.Event{ev}); !strings.Contains(got, "[imagem enviada: Comprovante de Pix de R$ 150,00") {
		t.Fatalf("what the turn reads: %q", got)
	}
	if kinds := wordlessMedia([]memory.Event{ev}); len(kinds) != 0 {
		t.Fatalf("a described photo taken for one without words: %v", kinds)
	}
}
