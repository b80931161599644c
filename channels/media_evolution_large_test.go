package channels

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/memory"
)

// Evolution hands out a file as base64 inside a JSON answer: a photo of a
// few megabytes (any phone's, a PDF of a contract) is an answer well over a
// megabyte, and is the file byte for byte — not an "unreadable answer".
func TestEvolutionDownloadsAFileOfSeveralMegabytes(t *testing.T) {
	file := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0xAB, 0x01, 0x7F}, 1<<20)...) // 3 MB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"mediaType":"imageMessage","mimetype":"image/png","base64":"`+base64.StdEncoding.EncodeToString(file)+`"}`)
	}))
	t.Cleanup(srv.Close)
	ch := Channel{Kind: KindEvolution, Settings: map[string]string{"base_url": srv.URL, "instance": "loja"}, Secrets: map[string]string{"apikey": "k"}}
	resp, err := evolution{}.Download(context.Background(), NewPlatforms(outbound.TestRig(), nil, nil), ch, memory.Media{Type: "image", PlatformID: "3EB0BIG"})
	if err != nil {
		t.Fatalf("download a 3 MB file from Evolution: %v", err)
	}
	got, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || !bytes.Equal(got, file) {
		t.Fatalf("got %d bytes (%v), want the %d of the file", len(got), err, len(file))
	}
}
