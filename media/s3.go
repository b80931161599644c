package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says where an S3-compatible store is (AWS S3, MinIO, Ceph RGW,
// Garage, R2...) and how to sign in to it.
type S3Config struct {
	// Endpoint is the server as "host:port" (no path), for example
	// "minio:9000" or "s3.eu-west-1.amazonaws.com". An "http://" or
	// "https://" in front is accepted only if it agrees with Secure.
	Endpoint string
	// Bucket must already exist; NewS3 does not create it.
	Bucket string
	// Region is the bucket's region; empty lets the client ask the server
	// (one extra request per bucket, cached).
	Region string
	// AccessKey and SecretKey are the credentials (static, signature V4).
	// The secret is never put in an error.
	AccessKey string
	SecretKey string
	// Secure talks TLS (https) to Endpoint.
	Secure bool
	// Prefix is an optional key prefix, so one bucket can hold other things
	// too: objects are at "<Prefix>/<sha[:2]>/<sha>" ("<sha[:2]>/<sha>"
	// without one). Leading and trailing slashes are ignored.
	Prefix string
	// TempDir is where Put spools an incoming file while it is hashed and
	// measured; empty is os.TempDir().
	TempDir string
}

// maxSinglePut is the most S3 takes in one PUT (5 GiB); Put does not split
// files into a multipart upload.
const maxSinglePut = 5 << 30

// S3 keeps blobs as objects in an S3-compatible bucket, addressed by SHA-256
// like Disk; several replicas can share it.
type S3 struct {
	client   *minio.Client
	bucket   string
	prefix   string
	tempDir  string
	MaxBytes int64
}

// NewS3 connects to the bucket cfg names, checks that it exists, and returns
// a store that refuses files above maxBytes.
func NewS3(ctx context.Context, cfg S3Config, maxBytes int64) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("media S3: endpoint and bucket are required")
	}
	if maxBytes > maxSinglePut {
		return nil, fmt.Errorf("media S3: a limit of %d bytes is above S3's %d for one upload", maxBytes, int64(maxSinglePut))
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("media S3 endpoint %q: %w", cfg.Endpoint, err)
	}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("media S3 bucket %q at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	if !ok {
		return nil, fmt.Errorf("media S3 bucket %q at %s does not exist", cfg.Bucket, cfg.Endpoint)
	}
	return &S3{
		client:   client,
		bucket:   cfg.Bucket,
		prefix:   strings.Trim(cfg.Prefix, "/"),
		tempDir:  cfg.TempDir,
		MaxBytes: maxBytes,
	}, nil
}

// Put spools r to a temporary file while hashing it, refuses it above
// MaxBytes, and uploads it unless an object with its address is already
// there (the same bytes, kept as they are).
func (s *S3) Put(ctx context.Context, r io.Reader) (Blob, error) {
	tmp, err := os.CreateTemp(s.tempDir, "atende-media-*")
	if err != nil {
		return Blob{}, fmt.Errorf("store media: %w", err)
	}
	defer func() {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, s.MaxBytes+1))
	if err != nil {
		return Blob{}, fmt.Errorf("store media: %w", err)
	}
	if n > s.MaxBytes {
		return Blob{}, fmt.Errorf("%w: over %d bytes", ErrTooLarge, s.MaxBytes)
	}
	b := Blob{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}
	key := s.key(b.SHA256)
	_, err = s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err == nil {
		return b, nil
	}
	if !notFound(err) {
		return Blob{}, fmt.Errorf("store media %s: %w", b.SHA256[:12], err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Blob{}, fmt.Errorf("store media: %w", err)
	}
	// One PUT of exactly n bytes, signed with the SHA-256 already computed:
	// the server checks the body against it. (minio-go's default for plain
	// HTTP, a streaming signature, sends an empty file with no
	// Content-Length, which S3 refuses.)
	_, err = minio.Core{Client: s.client}.PutObject(ctx, s.bucket, key, tmp, n, "", b.SHA256, minio.PutObjectOptions{
		ContentType:          "application/octet-stream",
		DisableContentSha256: true,
	})
	if err != nil {
		return Blob{}, fmt.Errorf("store media %s: %w", b.SHA256[:12], err)
	}
	return b, nil
}

// Open reads the blob at sha; one that is not there is an error wrapping
// os.ErrNotExist.
func (s *S3) Open(ctx context.Context, sha string) (io.ReadCloser, error) {
	if !isAddress(sha) {
		return nil, fmt.Errorf("media %q: not an address", sha)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.key(sha), minio.GetObjectOptions{})
	if err == nil {
		// GetObject is lazy: Stat sends the request, so a missing object
		// is told here rather than at the first Read.
		_, err = obj.Stat()
		if err != nil {
			_ = obj.Close()
		}
	}
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("open media %s: %w", sha[:12], os.ErrNotExist)
		}
		return nil, fmt.Errorf("open media %s: %w", sha[:12], err)
	}
	return obj, nil
}

// Delete removes the blob at sha; one already gone is fine (erasure may run twice).
func (s *S3) Delete(ctx context.Context, sha string) error {
	if !isAddress(sha) {
		return fmt.Errorf("media %q: not an address", sha)
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.key(sha), minio.RemoveObjectOptions{})
	if err != nil && !notFound(err) {
		return fmt.Errorf("delete media %s: %w", sha[:12], err)
	}
	return nil
}

func (s *S3) key(sha string) string {
	k := sha[:2] + "/" + sha
	if s.prefix != "" {
		k = s.prefix + "/" + k
	}
	return k
}

// notFound is S3's "no such key" (a HEAD has no body, so minio-go tells it
// by the 404 status).
func notFound(err error) bool {
	var resp minio.ErrorResponse
	if !errors.As(err, &resp) {
		return false
	}
	return resp.Code == minio.NoSuchKey || (resp.StatusCode == http.StatusNotFound && resp.Code != minio.NoSuchBucket)
}
