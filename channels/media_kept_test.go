package channels

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
)

// tinyPNG is a real 1×1 PNG (the one Evolution's own fixture carries).
var tinyPNG, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")

// The bytes that come inside a delivery are the file: Evolution's base64
// (WEBHOOK_BASE64), Postmark's attachment Content, SendGrid's and
// Mailgun's file parts, a raw e-mail's MIME parts (issue 13).
func TestFilesInsideTheDeliveryAreRead(t *testing.T) {
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF")
	cases := []struct {
		name  string
		parse func() (Batch, error)
		want  [][]byte
	}{
		{"evolution base64", func() (Batch, error) {
			body := fmt.Sprintf(`{"event":"messages.upsert","instance":"i","data":{"key":{"remoteJid":"5511987650404@s.whatsapp.net","fromMe":false,"id":"3EB0IMG"},
				"message":{"imageMessage":{"mimetype":"image/png","caption":"segue"},"base64":%q},"messageType":"imageMessage","messageTimestamp":1790000000}}`,
				base64.StdEncoding.EncodeToString(tinyPNG))
			return ParseEvolution([]byte(body))
		}, [][]byte{tinyPNG}},
		{"evolution base64 as a data URL", func() (Batch, error) {
			body := fmt.Sprintf(`{"event":"messages.upsert","instance":"i","data":{"key":{"remoteJid":"5511987650404@s.whatsapp.net","id":"3EB0IMG2"},
				"message":{"documentMessage":{"mimetype":"application/pdf","fileName":"boleto.pdf"},"base64":%q},"messageTimestamp":1790000000}}`,
				"data:application/pdf;base64,"+base64.StdEncoding.EncodeToString(pdf))
			return ParseEvolution([]byte(body))
		}, [][]byte{pdf}},
		{"evolution without base64", func() (Batch, error) {
			return ParseEvolution([]byte(`{"event":"messages.upsert","instance":"i","data":{"key":{"remoteJid":"5511987650404@s.whatsapp.net","id":"3EB0IMG3"},
				"message":{"imageMessage":{"mimetype":"image/png"}},"messageTimestamp":1790000000}}`))
		}, [][]byte{nil}},
		{"postmark", func() (Batch, error) {
			return ParsePostmarkInbound([]byte(fmt.Sprintf(`{"From":"ana@exemplo.com.br","Subject":"boleto","TextBody":"segue o boleto","Date":"Mon, 30 Nov 2026 10:00:00 -0300",
				"Headers":[{"Name":"Message-ID","Value":"<m1@exemplo.com.br>"}],
				"Attachments":[{"Name":"boleto.pdf","ContentType":"application/pdf","Content":%q},{"Name":"foto.png","ContentType":"image/png","Content":%q}]}`,
				base64.StdEncoding.EncodeToString(pdf), base64.StdEncoding.EncodeToString(tinyPNG))))
		}, [][]byte{pdf, tinyPNG}},
		{"raw e-mail", func() (Batch, error) {
			raw := "From: Ana <ana@exemplo.com.br>\r\nSubject: boleto\r\nMessage-ID: <m2@exemplo.com.br>\r\nMIME-Version: 1.0\r\n" +
				"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsegue o boleto\r\n" +
				"--XX\r\nContent-Type: application/pdf; name=\"boleto.pdf\"\r\nContent-Disposition: attachment; filename=\"boleto.pdf\"\r\n" +
				"Content-Transfer-Encoding: base64\r\n\r\n" + wrap76(base64.StdEncoding.EncodeToString(pdf)) + "\r\n--XX--\r\n"
			return ParseEmailForm(EmailSendGrid, url.Values{"email": {raw}})
		}, [][]byte{pdf}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.parse()
			if err != nil || len(b.Messages) != 1 {
				t.Fatalf("parse: %+v %v", b, err)
			}
			got := b.Messages[0].Media
			if len(got) != len(tc.want) {
				t.Fatalf("media: %+v", got)
			}
			for i, w := range tc.want {
				if !bytes.Equal(got[i].Data, w) {
					t.Errorf("media %d (%s): %d bytes, want %d", i, got[i].FileName, len(got[i].Data), len(w))
				}
			}
		})
	}
}

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

// SendGrid's Inbound Parse posts attachment1…N as file parts described by
// attachment-info; Mailgun posts attachment-1…N alone. Both are read with
// their bytes, in order (attachment10 after attachment2).
func TestFilePartsOfAnEmailFormAreItsAttachments(t *testing.T) {
	form := func(fields map[string]string, files [][3]string) Delivery {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		for k, v := range fields {
			_ = w.WriteField(k, v)
		}
		for _, f := range files {
			h := make(map[string][]string)
			h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name=%q; filename=%q`, f[0], f[1])}
			h["Content-Type"] = []string{"application/octet-stream"}
			p, _ := w.CreatePart(h)
			_, _ = io.WriteString(p, f[2])
		}
		_ = w.Close()
		return Delivery{Header: map[string][]string{"Content-Type": {w.FormDataContentType()}}, Body: body.Bytes()}
	}
	var files [][3]string
	info := map[string]string{}
	for i := 1; i <= 10; i++ {
		files = append(files, [3]string{fmt.Sprintf("attachment%d", i), fmt.Sprintf("f%d.txt", i), fmt.Sprintf("conteúdo %d", i)})
		info[fmt.Sprintf("attachment%d", i)] = fmt.Sprintf(`{"filename":"f%d.txt","type":"text/plain"}`, i)
	}
	var parts []string
	for k, v := range info {
		parts = append(parts, fmt.Sprintf("%q:%s", k, v))
	}
	d := form(map[string]string{"from": "ana@exemplo.com.br", "subject": "anexos", "text": "segue", "attachments": "10",
		"headers": "Message-ID: <sg@exemplo.com.br>", "attachment-info": "{" + strings.Join(parts, ",") + "}"}, files)
	f, fileParts, err := parseForm(d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseEmailForm(EmailSendGrid, f)
	if err != nil {
		t.Fatal(err)
	}
	got := withFileParts(b.Messages[0].Media, fileParts)
	if len(got) != 10 {
		t.Fatalf("attachments: %d", len(got))
	}
	for i, m := range got {
		if want := fmt.Sprintf("conteúdo %d", i+1); string(m.Data) != want || m.FileName != fmt.Sprintf("f%d.txt", i+1) {
			t.Errorf("attachment %d: %q %q", i+1, m.FileName, m.Data)
		}
	}
	// Mailgun: no description, the file parts are the attachments, in number order
	_, fileParts, err = parseForm(form(map[string]string{"from": "ana@exemplo.com.br"}, [][3]string{
		{"attachment-10", "dez.txt", "10"}, {"attachment-2", "dois.txt", "2"}, {"attachment-1", "um.txt", "1"}}))
	if err != nil {
		t.Fatal(err)
	}
	mg := withFileParts(nil, fileParts)
	if len(mg) != 3 || mg[0].FileName != "um.txt" || mg[1].FileName != "dois.txt" || mg[2].FileName != "dez.txt" || string(mg[2].Data) != "10" {
		t.Fatalf("mailgun attachments: %+v", mg)
	}
}

// A file that came in the delivery is kept at ingest — stored, served, no
// download job — and one the store refuses (too large) is recorded as failed
// with why while its message is stored all the same.
func TestFilesInsideTheDeliveryAreKeptAtIngest(t *testing.T) {
	e := newOutboxEnv(t)
	dir := t.TempDir()
	blobs, err := media.NewDisk(dir, 1024)
	if err != nil {
		t.Fatal(err)
	}
	files := media.NewFiles(e.pool)
	inserter, err := river.NewClient(riverpgxv5.New(e.pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ing := NewIngestor(e.pool, e.mem, nil).WithMedia(NewMediaJobs(inserter, files, blobs, media.WordsFor{}))
	wa := e.whatsapp(t, "http://127.0.0.1:1")
	res, err := ing.Ingest(context.Background(), wa, Batch{Messages: []Inbound{{ExternalID: "wamid.kept", Type: "image", At: time.Now(),
		From:  Sender{Identities: []memory.Identity{{Kind: memory.KindWhatsApp, Value: "5511987650404"}}},
		Media: []memory.Media{{Type: "image", MIME: "image/jpeg", Data: tinyPNG}, {Type: "document", FileName: "grande.pdf", Data: bytes.Repeat([]byte("x"), 2048)}}}}})
	if err != nil || res.Stored != 1 {
		t.Fatalf("ingest: %+v %v", res, err)
	}
	got, err := files.OfEvent(context.Background(), e.acct, res.EventIDs[0])
	if err != nil || len(got) != 2 {
		t.Fatalf("files: %+v %v", got, err)
	}
	if got[0].Status != media.StatusStored || got[0].MIME != "image/png" || got[0].Size != int64(len(tinyPNG)) {
		t.Fatalf("the kept image: %+v", got[0])
	}
	if kept, err := os.ReadFile(filepath.Join(dir, got[0].SHA256[:2], got[0].SHA256)); err != nil || !bytes.Equal(kept, tinyPNG) {
		t.Fatalf("the image on disk: %v", err)
	}
	if got[1].Status != media.StatusFailed || !strings.Contains(got[1].Error, "too large") || got[1].FileName != "grande.pdf" {
		t.Fatalf("the refused file: %+v", got[1])
	}
	var jobs int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'media_fetch'`).Scan(&jobs); err != nil || jobs != 0 {
		t.Fatalf("download jobs for files already here: %d %v", jobs, err)
	}
	ev, err := e.mem.Event(context.Background(), e.acct, res.EventIDs[0])
	if err != nil || len(ev.Media) != 2 || ev.Media[0].Data != nil {
		t.Fatalf("the stored message: %+v %v", ev.Media, err)
	}
}

// brokenBlobs is a store having a bad moment (S3 down).
type brokenBlobs struct{ media.Blobs }

func (brokenBlobs) Put(context.Context, io.Reader) (media.Blob, error) {
	return media.Blob{}, errors.New("store media: connection refused")
}

// A store that cannot take a file right now loses nothing the platform
// still has: Evolution's photo is downloaded later by the job; an e-mail
// attachment, which only came in the post, says it could not be kept.
func TestAStoreDownAtIngestFallsBackToTheDownload(t *testing.T) {
	e := newOutboxEnv(t)
	files := media.NewFiles(e.pool)
	inserter, err := river.NewClient(riverpgxv5.New(e.pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ing := NewIngestor(e.pool, e.mem, nil).WithMedia(NewMediaJobs(inserter, files, brokenBlobs{}, media.WordsFor{}))
	wa := e.whatsapp(t, "http://127.0.0.1:1")
	res, err := ing.Ingest(context.Background(), wa, Batch{Messages: []Inbound{{ExternalID: "3EB0DOWN", Type: "image", At: time.Now(),
		From:  Sender{Identities: []memory.Identity{{Kind: memory.KindWhatsApp, Value: "5511987650404"}}},
		Media: []memory.Media{{Type: "image", MIME: "image/png", PlatformID: "3EB0DOWN", Data: tinyPNG}, {Type: "document", FileName: "nota.pdf", Data: []byte("%PDF-1.4")}}}}})
	if err != nil || res.Stored != 1 {
		t.Fatalf("ingest: %+v %v", res, err)
	}
	got, err := files.OfEvent(context.Background(), e.acct, res.EventIDs[0])
	if err != nil || len(got) != 2 {
		t.Fatalf("files: %+v %v", got, err)
	}
	if got[0].Status != media.StatusPending || got[1].Status != media.StatusFailed || got[1].Error == "" {
		t.Fatalf("the photo waits for its download, the attachment says why: %+v", got)
	}
	var jobs int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'media_fetch'`).Scan(&jobs); err != nil || jobs != 1 {
		t.Fatalf("download jobs: %d %v", jobs, err)
	}
}
