package channels

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
)

// pngBytes is the start of a PNG: what the sniffer recognises.
var pngBytes = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 2000)...)

// A WhatsApp image, a Telegram voice note and an Evolution image are
// downloaded after ingest by the media job, through each platform's own way
// (Graph's media URL with the token; getFile; Evolution's base64 endpoint), kept by content with the sniffed type, and a file
// the platform refuses is marked failed with the status — never a gap.
func TestMediaIsFetchedAfterIngest(t *testing.T) {
	e := newOutboxEnv(t)
	var graphAuth string
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/MEDIA-1":
			graphAuth = r.Header.Get("Authorization")
			_, _ = io.WriteString(w, `{"url":"http://`+r.Host+`/cdn/img-1","mime_type":"image/jpeg"}`)
		case r.URL.Path == "/cdn/img-1":
			_, _ = w.Write(pngBytes)
		case strings.HasSuffix(r.URL.Path, "/getFile"):
			_, _ = io.WriteString(w, `{"ok":true,"result":{"file_path":"voice/file_9.oga"}}`)
		case r.URL.Path == "/chat/getBase64FromMediaMessage/loja-centro":
			var req struct {
				Message struct {
					Key struct {
						ID string `json:"id"`
					} `json:"key"`
				} `json:"message"`
			}
			_ = json.NewDecoder(r.Body).Decode(&req)
			if r.Header.Get("apikey") != "evo-key" || req.Message.Key.ID != "3EB0IMG" {
				http.Error(w, "{}", http.StatusUnauthorized)
				return
			}
			_, _ = io.WriteString(w, `{"mediaType":"imageMessage","mimetype":"image/jpeg","base64":"`+base64.StdEncoding.EncodeToString(pngBytes)+`"}`)
		case strings.HasSuffix(r.URL.Path, "/voice/file_9.oga"):
			_, _ = w.Write(append([]byte("OggS\x00\x02"), bytes.Repeat([]byte{1}, 498)...)) // a real Ogg page opens so
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(platform.Close)
	wa := e.whatsapp(t, platform.URL)
	tg, err := e.channels.Create(context.Background(), e.acct, NewChannel{Kind: KindTelegram, Name: "tg",
		Settings: map[string]string{"base_url": platform.URL}, Secrets: map[string]string{"bot_token": "123:SECRET"}})
	if err != nil {
		t.Fatal(err)
	}
	evo, err := e.channels.Create(context.Background(), e.acct, NewChannel{Kind: KindEvolution, Name: "evo",
		Settings: map[string]string{"base_url": platform.URL, "instance": "loja-centro"}, Secrets: map[string]string{"apikey": "evo-key"}})
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := media.NewDisk(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	files := media.NewFiles(e.pool)
	workers := river.NewWorkers()
	river.AddWorker(workers, NewMediaWorker(e.pool, e.mem, e.channels, NewPlatforms(outbound.TestRig(), nil, nil), files, blobs))
	client, err := river.NewClient(riverpgxv5.New(e.pool), &river.Config{Queues: map[string]river.QueueConfig{MediaQueue: {MaxWorkers: 2}},
		Workers: workers, TestOnly: true, FetchPollInterval: 50 * time.Millisecond, FetchCooldown: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobCancelled, river.EventKindJobFailed)
	defer cancel()
	if err := client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(context.Background()) })
	ing := NewIngestor(e.pool, e.mem, nil).WithMedia(NewMediaJobs(client, files, blobs, media.WordsFor{}))
	from := func(kind memory.IdentityKind, v string) Sender {
		return Sender{Identities: []memory.Identity{{Kind: kind, Value: v}}}
	}
	ingest := func(ch Channel, in Inbound) int64 {
		res, err := ing.Ingest(context.Background(), ch, Batch{Messages: []Inbound{in}})
		if err != nil || res.Stored != 1 {
			t.Fatalf("ingest: %+v %v", res, err)
		}
		return res.EventIDs[0]
	}
	img := ingest(wa, Inbound{ExternalID: "wamid.img", Type: "image", At: time.Now(), From: from(memory.KindWhatsApp, "5511987650404"),
		Media: []memory.Media{{Type: "image", MIME: "image/jpeg", PlatformID: "MEDIA-1", Caption: "comprovante do Pix"}}})
	voice := ingest(tg, Inbound{ExternalID: "1:9", Type: "audio", At: time.Now(), From: from(memory.KindTelegram, "584920999"),
		Media: []memory.Media{{Type: "voice", MIME: "audio/ogg", PlatformID: "FILE-9"}}})
	gone := ingest(wa, Inbound{ExternalID: "wamid.gone", Type: "document", At: time.Now(), From: from(memory.KindWhatsApp, "5511987650404"),
		Media: []memory.Media{{Type: "document", PlatformID: "MEDIA-GONE", FileName: "contrato.pdf"}}})
	evoImg := ingest(evo, Inbound{ExternalID: "3EB0IMG", Type: "image", At: time.Now(), From: from(memory.KindWhatsApp, "5511987650505"),
		Media: []memory.Media{{Type: "image", MIME: "image/jpeg", PlatformID: "3EB0IMG"}}})
	for range 4 {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("the media jobs did not finish")
		}
	}
	check := func(eventID int64, status media.Status, mime string, size int64) media.File {
		fs, err := files.OfEvent(context.Background(), e.acct, eventID)
		if err != nil || len(fs) != 1 {
			t.Fatalf("files of %d: %+v %v", eventID, fs, err)
		}
		f := fs[0]
		if f.Status != status || f.MIME != mime || f.Size != size {
			t.Fatalf("file of %d: %+v, want %s %s %d", eventID, f, status, mime, size)
		}
		return f
	}
	f := check(img, media.StatusStored, "image/png", int64(len(pngBytes)))
	r, err := blobs.Open(context.Background(), f.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	_ = r.Close()
	if !bytes.Equal(got, pngBytes) || graphAuth != "Bearer EAAG-test" {
		t.Fatalf("stored %d bytes (auth %q)", len(got), graphAuth)
	}
	check(voice, media.StatusStored, "audio/ogg", 504)
	if ev := check(evoImg, media.StatusStored, "image/png", int64(len(pngBytes))); ev.SHA256 != f.SHA256 {
		t.Fatal("the same bytes from Evolution are not the same blob")
	}
	g := check(gone, media.StatusFailed, "", 0)
	if g.Error != "HTTP 404" || g.FileName != "contrato.pdf" {
		t.Fatalf("failed file: %+v", g)
	}
	if other, err := files.Get(context.Background(), e.acct, f.ID); err != nil || other.ID != f.ID {
		t.Fatalf("get: %v", err)
	}
}

// A file whose URL points inside the network is refused by the outbound
// policy, once and for good, with the policy's words — never fetched.
func TestMediaAtAnInternalAddressIsRefused(t *testing.T) {
	e := newOutboxEnv(t)
	var hits int
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++; _, _ = w.Write(pngBytes) }))
	t.Cleanup(internal.Close)
	ig, err := e.channels.Create(context.Background(), e.acct, NewChannel{Kind: KindInstagram, Name: "ig",
		Settings: map[string]string{"instagram_id": "17841400123456789"}, Secrets: map[string]string{"app_secret": "s", "verify_token": "v", "access_token": "t"}})
	if err != nil {
		t.Fatal(err)
	}
	files := media.NewFiles(e.pool)
	blobs, err := media.NewDisk(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var fileID uuid.UUID
	queue := mediaQueueFunc(func(ctx context.Context, tx pgx.Tx, acct uuid.UUID, ev memory.Event) error {
		fileID, err = files.PendingTx(ctx, tx, acct, media.Item{EventID: ev.ID, Kind: "image"})
		return err
	})
	res, err := NewIngestor(e.pool, e.mem, nil).WithMedia(queue).Ingest(context.Background(), ig, Batch{Messages: []Inbound{{ExternalID: "m.img",
		Type: "image", At: time.Now(), From: Sender{Identities: []memory.Identity{{Kind: memory.KindInstagram, Value: "7654321000000099"}}},
		Media: []memory.Media{{Type: "image", URL: internal.URL + "/photo.jpg"}}}}})
	if err != nil || res.Stored != 1 {
		t.Fatalf("ingest: %+v %v", res, err)
	}
	w := NewMediaWorker(e.pool, e.mem, e.channels, NewPlatforms(outbound.Policy{}, nil, nil), files, blobs)
	err = w.fetch(context.Background(), MediaArgs{AccountID: e.acct, FileID: fileID, EventID: res.EventIDs[0]})
	var final *finalMediaError
	if !errors.As(err, &final) || !strings.Contains(err.Error(), "outbound policy") || hits != 0 {
		t.Fatalf("fetch: %v (hits %d)", err, hits)
	}
}

// mediaQueueFunc is a MediaEnqueuer of one function, for tests.
type mediaQueueFunc func(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, ev memory.Event) error

func (f mediaQueueFunc) EnqueueMedia(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, ev memory.Event, _ []*KeptFile) error {
	return f(ctx, tx, accountID, ev)
}

func (mediaQueueFunc) Keep(context.Context, []memory.Media) []*KeptFile { return nil }
