// Package media keeps the files customers send: the bytes in a blob store
// addressed by their SHA-256 (the same photo sent twice is stored once), and
// the media_files table that says, per media item of a message, whether it
// was fetched, what it is and why not.
package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrTooLarge is a file above the store's limit; it is not kept.
var ErrTooLarge = errors.New("file too large")

// Blob is a stored file's address and size.
type Blob struct {
	SHA256 string
	Size   int64
}

// Blobs stores files by content. The embedded default is Disk; a deployment
// with several replicas uses a shared store behind the same interface.
type Blobs interface {
	// Put stores what r holds, up to the store's limit, and returns its address.
	Put(ctx context.Context, r io.Reader) (Blob, error)
	// Open reads a stored file.
	Open(ctx context.Context, sha string) (io.ReadCloser, error)
	// Delete removes a stored file (erasure); a file already gone is no error.
	Delete(ctx context.Context, sha string) error
}

// Disk keeps blobs as files under Dir (two-letter fan-out by hash).
type Disk struct {
	Dir      string
	MaxBytes int64
}

// NewDisk returns a disk store under dir that refuses files above maxBytes.
func NewDisk(dir string, maxBytes int64) (*Disk, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("media directory %s: %w", dir, err)
	}
	return &Disk{Dir: dir, MaxBytes: maxBytes}, nil
}

// Put writes r to a temporary file while hashing it, then moves it to its
// address; a file already there is the same bytes and is kept as it is.
func (d *Disk) Put(_ context.Context, r io.Reader) (Blob, error) {
	tmp, err := os.CreateTemp(d.Dir, ".incoming-*")
	if err != nil {
		return Blob{}, fmt.Errorf("store media: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, d.MaxBytes+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Blob{}, fmt.Errorf("store media: %w", err)
	}
	if n > d.MaxBytes {
		return Blob{}, fmt.Errorf("%w: over %d bytes", ErrTooLarge, d.MaxBytes)
	}
	b := Blob{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}
	path := d.path(b.SHA256)
	if _, err := os.Stat(path); err == nil {
		return b, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return Blob{}, fmt.Errorf("store media: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return Blob{}, fmt.Errorf("store media: %w", err)
	}
	return b, nil
}

// Open reads the blob at sha.
func (d *Disk) Open(_ context.Context, sha string) (io.ReadCloser, error) {
	if !isAddress(sha) { // never a path: "../" must not reach out of Dir
		return nil, fmt.Errorf("media %q: not an address", sha)
	}
	f, err := os.Open(d.path(sha))
	if err != nil {
		return nil, fmt.Errorf("open media %s: %w", sha[:12], err)
	}
	return f, nil
}

func (d *Disk) path(sha string) string { return filepath.Join(d.Dir, sha[:2], sha) }

// Delete removes the blob at sha; one already gone is fine (erasure may run twice).
func (d *Disk) Delete(_ context.Context, sha string) error {
	if !isAddress(sha) {
		return fmt.Errorf("media %q: not an address", sha)
	}
	if err := os.Remove(d.path(sha)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete media %s: %w", sha[:12], err)
	}
	return nil
}

// isAddress is a SHA-256 as Put writes it: 64 lowercase hex digits.
func isAddress(sha string) bool {
	if len(sha) != 64 {
		return false
	}
	for _, c := range sha {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
