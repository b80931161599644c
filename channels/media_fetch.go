package channels

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/atende/atende/internal/database"
	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/media"
	"github.com/atende/atende/memory"
)

// MediaQueue is the River queue media files are fetched from.
const MediaQueue = media.Queue

// MediaArgs is the job that fetches one media item of a stored message.
type MediaArgs struct {
	AccountID uuid.UUID `json:"account_id"`
	FileID    uuid.UUID `json:"file_id"`
	EventID   int64     `json:"event_id"`
	Position  int       `json:"position"`
}

// Kind names the job in River's table.
func (MediaArgs) Kind() string { return "media_fetch" }

// InsertOpts: retried with backoff (a platform's CDN has bad minutes), one job per file.
func (MediaArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: MediaQueue, MaxAttempts: 6, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// MediaJobs records each media item of an inbound message and enqueues its
// download, in the transaction that stores the message (Ingestor.WithMedia):
// the webhook answers before any byte is fetched. Bytes that came in the
// delivery itself are kept before that transaction (Keep), never inside it.
type MediaJobs struct {
	jobs  *river.Client[pgx.Tx]
	files *media.Files
	blobs media.Blobs
	words media.WordsFor
}

// NewMediaJobs returns the queue that inserts through jobs and keeps
// in-delivery files in blobs; words says which files get words here (voice
// notes transcribed, images described), so they are marked as awaited.
func NewMediaJobs(jobs *river.Client[pgx.Tx], files *media.Files, blobs media.Blobs, words media.WordsFor) *MediaJobs {
	return &MediaJobs{jobs: jobs, files: files, blobs: blobs, words: words}
}

// KeptFile is an in-delivery file already in the blob store, or why it is not.
type KeptFile struct {
	Blob   media.Blob
	MIME   string
	Failed string
}

// Keep stores the bytes that came inside the delivery (position by
// position; nil where an item has none). A file the store refuses is
// recorded as failed with why; one it cannot take right now is downloaded
// later when the platform has it; the message is stored all the same.
func (q *MediaJobs) Keep(ctx context.Context, items []memory.Media) []*KeptFile {
	var kept []*KeptFile
	for i, m := range items {
		if m.Data == nil {
			continue
		}
		if kept == nil {
			kept = make([]*KeptFile, len(items))
		}
		b, err := q.blobs.Put(ctx, bytes.NewReader(m.Data))
		switch {
		case errors.Is(err, media.ErrTooLarge):
			kept[i] = &KeptFile{Failed: err.Error()}
		case err != nil && (m.PlatformID != "" || m.URL != ""):
			// the store had a bad moment (S3 down): the platform still has
			// the file, so the download job fetches it, with its retries
		case err != nil:
			kept[i] = &KeptFile{Failed: "não foi possível guardar o arquivo"}
		default:
			kept[i] = &KeptFile{Blob: b, MIME: media.SniffMIME(m.Data[:min(512, len(m.Data))], m.MIME, "")}
		}
	}
	return kept
}

// EnqueueMedia records every item of a message: kept ones as stored (and
// transcribed next), fetchable ones as pending with their download job.
func (q *MediaJobs) EnqueueMedia(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, ev memory.Event, kept []*KeptFile) error {
	for i, m := range ev.Media {
		it := media.Item{EventID: ev.ID, Position: i, Kind: m.Type, FileName: m.FileName, WantWords: q.words.Want(m.Type)}
		if i < len(kept) && kept[i] != nil {
			k := kept[i]
			if k.Failed != "" {
				id, err := q.files.PendingTx(ctx, tx, accountID, it)
				if err != nil {
					return err
				}
				if err := q.files.FailedTx(ctx, tx, accountID, id, k.Failed); err != nil {
					return err
				}
				continue
			}
			id, err := q.files.KeptTx(ctx, tx, accountID, it, k.Blob, k.MIME)
			if err != nil {
				return err
			}
			if err := q.wordsTx(ctx, tx, accountID, id, it); err != nil {
				return err
			}
			continue
		}
		if m.PlatformID == "" && m.URL == "" {
			continue
		}
		id, err := q.files.PendingTx(ctx, tx, accountID, it)
		if err != nil {
			return err
		}
		if _, err := q.jobs.InsertTx(ctx, tx, MediaArgs{AccountID: accountID, FileID: id, EventID: ev.ID, Position: i}, nil); err != nil {
			return fmt.Errorf("enqueue media %d/%d: %w", ev.ID, i, err)
		}
	}
	return nil
}

// wordsTx enqueues a stored file's transcription or description when one is wanted.
func (q *MediaJobs) wordsTx(ctx context.Context, tx pgx.Tx, accountID, fileID uuid.UUID, it media.Item) error {
	if !it.WantWords {
		return nil
	}
	if _, err := q.jobs.InsertTx(ctx, tx, media.WordsArgs{AccountID: accountID, FileID: fileID}, nil); err != nil {
		return fmt.Errorf("enqueue transcription of %s: %w", fileID, err)
	}
	return nil
}

// mediaSource is an adapter that knows how its platform hands out a file
// (WhatsApp Cloud: the media id's URL with the token; Telegram: getFile).
// Others fetch the item's URL as it came.
type mediaSource interface {
	Download(ctx context.Context, via *Platforms, ch Channel, m memory.Media) (*http.Response, error)
}

// MediaWorker downloads media under the outbound policy and keeps them.
type MediaWorker struct {
	river.WorkerDefaults[MediaArgs]
	pool     *pgxpool.Pool
	memory   *memory.Store
	channels *Store
	via      *Platforms
	files    *media.Files
	blobs    media.Blobs
	wakes    media.Waker
}

// WithWakes wakes the turn waiting for a file's words when its download
// fails for good (it stops waiting at once, not at its limit).
func (w *MediaWorker) WithWakes(wakes media.Waker) *MediaWorker { w.wakes = wakes; return w }

// NewMediaWorker returns the worker to register with River.
func NewMediaWorker(pool *pgxpool.Pool, mem *memory.Store, chs *Store, via *Platforms, files *media.Files, blobs media.Blobs) *MediaWorker {
	return &MediaWorker{pool: pool, memory: mem, channels: chs, via: via, files: files, blobs: blobs}
}

// Timeout bounds one download; under River's rescue of stuck jobs (75 s,
// the turn lease), or a running download would be started again beside it.
func (w *MediaWorker) Timeout(*river.Job[MediaArgs]) time.Duration { return 70 * time.Second }

// Work fetches one file; a failure is retried, and the last one is recorded
// on the file with its reason (the inbox shows it, never a silent gap).
func (w *MediaWorker) Work(ctx context.Context, job *river.Job[MediaArgs]) error {
	err := w.fetch(ctx, job.Args)
	if err == nil {
		return nil
	}
	var final *finalMediaError
	if errors.As(err, &final) || job.Attempt >= job.MaxAttempts {
		if ferr := w.files.Failed(ctx, job.Args.AccountID, job.Args.FileID, err.Error()); ferr != nil {
			return ferr
		}
		if w.wakes != nil {
			if ev, eerr := w.memory.Event(ctx, job.Args.AccountID, job.Args.EventID); eerr == nil && ev.ConversationID != nil {
				w.wakes.Poke(media.WordsTopic(*ev.ConversationID))
			}
		}
		return river.JobCancel(err)
	}
	return err
}

// finalMediaError is a download that no retry can fix (a refused address,
// a file too large, a platform that has no such file).
type finalMediaError struct{ reason string }

func (e *finalMediaError) Error() string { return e.reason }

func (w *MediaWorker) fetch(ctx context.Context, a MediaArgs) error {
	ev, err := w.memory.Event(ctx, a.AccountID, a.EventID)
	if err != nil {
		return &finalMediaError{"the message is gone"}
	}
	if a.Position >= len(ev.Media) {
		return &finalMediaError{"the message has no such media"}
	}
	m := ev.Media[a.Position]
	var p struct {
		ChannelID uuid.UUID `json:"channel_id"`
	}
	if json.Unmarshal(ev.Payload, &p) != nil || p.ChannelID == uuid.Nil {
		return &finalMediaError{"the message names no channel"}
	}
	ch, err := w.channels.Get(ctx, a.AccountID, p.ChannelID)
	if err != nil {
		return &finalMediaError{"the channel no longer exists"}
	}
	var resp *http.Response
	if src, ok := w.via.adapters.mediaSourceOf(ch.Kind); ok {
		resp, err = src.Download(ctx, w.via, ch, m)
	} else if m.URL != "" {
		resp, err = w.via.get(ctx, m.URL, nil)
	} else {
		return &finalMediaError{fmt.Sprintf("%s does not hand out its files by id", ch.Kind)}
	}
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body := bufio.NewReaderSize(resp.Body, 512)
	head, _ := body.Peek(512)
	mime := media.SniffMIME(head, m.MIME, resp.Header.Get("Content-Type"))
	b, err := w.blobs.Put(ctx, body)
	if errors.Is(err, media.ErrTooLarge) {
		return &finalMediaError{err.Error()}
	}
	if err != nil {
		return err
	}
	f, err := w.files.Get(ctx, a.AccountID, a.FileID)
	if errors.Is(err, media.ErrNotFound) {
		return w.drop(ctx, b, err)
	}
	if err != nil {
		return err
	}
	err = database.InTx(ctx, w.pool, func(tx pgx.Tx) error {
		if err := w.files.StoredTx(ctx, tx, a.AccountID, a.FileID, b, mime); err != nil {
			return err
		}
		if f.WordsStatus != media.WordsPending {
			return nil
		}
		// the file is here: its words next (the turn is waiting for them)
		if _, err := river.ClientFromContext[pgx.Tx](ctx).InsertTx(ctx, tx, media.WordsArgs{AccountID: a.AccountID, FileID: a.FileID}, nil); err != nil {
			return fmt.Errorf("enqueue the words of %s: %w", a.FileID, err)
		}
		return nil
	})
	if errors.Is(err, media.ErrNotFound) {
		return w.drop(ctx, b, err)
	}
	return err
}

// drop deletes a blob fetched for a file that no longer exists (its contact
// was erased meanwhile), unless another message holds the same bytes.
func (w *MediaWorker) drop(ctx context.Context, b media.Blob, why error) error {
	if left, err := w.files.Unreferenced(ctx, []string{b.SHA256}); err == nil && len(left) == 1 {
		if err := w.blobs.Delete(ctx, b.SHA256); err != nil {
			return err
		}
	}
	return &finalMediaError{why.Error()}
}

// get fetches url under the outbound policy; anything but 2xx is an error
// with the status only (the remote's body is never copied).
func (h *Platforms) get(ctx context.Context, url string, headers map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, &finalMediaError{"not a URL"}
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		if errors.Is(err, outbound.ErrBlocked) {
			return nil, &finalMediaError{withoutPath(err)} // retrying will not change the policy's mind
		}
		return nil, errors.New(withoutPath(err))
	}
	if resp.StatusCode/100 != 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusGone {
			return nil, &finalMediaError{fmt.Sprintf("HTTP %d", resp.StatusCode)}
		}
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp, nil
}

// getJSON fetches url and decodes its JSON into out.
func (h *Platforms) getJSON(ctx context.Context, url string, headers map[string]string, out any) error {
	resp, err := h.get(ctx, url, headers)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return fmt.Errorf("decode the platform's answer: %w", err)
	}
	return nil
}

// mediaSourceOf is the kind's adapter when it downloads its own files.
func (r *Registry) mediaSourceOf(k Kind) (mediaSource, bool) {
	a, ok := r.byKind[k]
	if !ok {
		return nil, false
	}
	src, ok := a.(mediaSource)
	return src, ok
}

// Download asks Graph for the media id's URL, then fetches it with the token.
func (whatsAppCloud) Download(ctx context.Context, via *Platforms, ch Channel, m memory.Media) (*http.Response, error) {
	if m.PlatformID == "" {
		return nil, &finalMediaError{"no media id"}
	}
	auth := map[string]string{"Authorization": "Bearer " + ch.Secret("access_token")}
	var meta struct {
		URL string `json:"url"`
	}
	if err := via.getJSON(ctx, baseURL(ch, defaultGraphURL)+"/"+m.PlatformID, auth, &meta); err != nil {
		return nil, err
	}
	if meta.URL == "" {
		return nil, &finalMediaError{"Graph gave no URL for the media"}
	}
	return via.get(ctx, meta.URL, auth)
}

// Download asks getFile for the file's path, then fetches it (the bot token
// is in the URL: errors never carry it, see withoutPath).
func (telegram) Download(ctx context.Context, via *Platforms, ch Channel, m memory.Media) (*http.Response, error) {
	if m.PlatformID == "" {
		return nil, &finalMediaError{"no file id"}
	}
	base := baseURL(ch, defaultTelegramURL)
	token := ch.Secret("bot_token")
	var f struct {
		OK     bool `json:"ok"`
		Result struct {
			FilePath string `json:"file_path"`
		} `json:"result"`
	}
	if err := via.getJSON(ctx, base+"/bot"+token+"/getFile?file_id="+neturl.QueryEscape(m.PlatformID), nil, &f); err != nil {
		return nil, err
	}
	if !f.OK || f.Result.FilePath == "" {
		return nil, &finalMediaError{"Telegram has no such file"}
	}
	return via.get(ctx, base+"/file/bot"+token+"/"+f.Result.FilePath, nil)
}

// maxEvolutionMediaAnswer bounds Evolution's answer with a file in base64:
// the largest file kept (25 MB) is a third larger in base64, plus the JSON.
const maxEvolutionMediaAnswer = 40 << 20

// Download asks the instance for the message's media as base64 (Evolution's
// chat/getBase64FromMediaMessage): the URL in the webhook is WhatsApp's
// encrypted file, useless without the media key Evolution holds.
func (evolution) Download(ctx context.Context, via *Platforms, ch Channel, m memory.Media) (*http.Response, error) {
	if m.PlatformID == "" {
		return nil, &finalMediaError{"no message id"}
	}
	var out struct {
		Base64   string `json:"base64"`
		MimeType string `json:"mimetype"`
	}
	url := baseURL(ch, "") + "/chat/getBase64FromMediaMessage/" + ch.Settings["instance"]
	body := map[string]any{"message": map[string]any{"key": map[string]string{"id": m.PlatformID}}, "convertToMp4": false}
	if err := via.postJSONUpTo(ctx, url, map[string]string{"apikey": ch.Secret("apikey")}, body, &out, maxEvolutionMediaAnswer); err != nil {
		var se *SendError
		if errors.As(err, &se) && !se.Retryable {
			return nil, &finalMediaError{se.Reason}
		}
		return nil, err
	}
	if out.Base64 == "" {
		return nil, &finalMediaError{"Evolution gave no file for the message"}
	}
	_, data, _ := strings.Cut(out.Base64, "base64,") // a data: URL on some versions
	if data == "" {
		data = out.Base64
	}
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{},
		Body: io.NopCloser(base64.NewDecoder(base64.StdEncoding, strings.NewReader(data)))}
	resp.Header.Set("Content-Type", out.MimeType)
	return resp, nil
}
