package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

const (
	contractMax = 1 << 10
	testBucket  = "atende-media"
	testSecret  = "s3cr3t-never-in-an-error"
)

// store is one Blobs implementation under the contract, with a way to list
// what it holds that does not go through the implementation itself.
type store struct {
	blobs Blobs
	keys  func(t *testing.T) []string
	// spool is where Put stages incoming files; it must be left empty.
	spool string
}

// fakeS3 is a server speaking the S3 protocol over HTTP, with one bucket.
func fakeS3(t *testing.T) (*s3mem.Backend, string) {
	backend, endpoint, _ := countedS3(t)
	return backend, endpoint
}

// countedS3 is fakeS3 that also counts the uploads (PUT requests) it gets.
func countedS3(t *testing.T) (*s3mem.Backend, string, *atomic.Int32) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	var puts atomic.Int32
	fake := gofakes3.New(backend).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			puts.Add(1)
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return backend, u.Host, &puts
}

func s3Keys(t *testing.T, backend *s3mem.Backend) []string {
	t.Helper()
	list, err := backend.ListBucket(testBucket, nil, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range list.Contents {
		keys = append(keys, c.Key)
	}
	sort.Strings(keys)
	return keys
}

// stores are the implementations the contract runs against.
var stores = []struct {
	name string
	open func(t *testing.T) store
}{
	{"disk", func(t *testing.T) store {
		dir := t.TempDir()
		d, err := NewDisk(dir, contractMax)
		if err != nil {
			t.Fatal(err)
		}
		return store{blobs: d, spool: dir, keys: func(t *testing.T) []string {
			var keys []string
			err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !e.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					keys = append(keys, filepath.ToSlash(rel))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(keys)
			return keys
		}}
	}},
	{"s3", func(t *testing.T) store {
		backend, endpoint := fakeS3(t)
		spool := t.TempDir()
		s, err := NewS3(context.Background(), S3Config{
			Endpoint:  endpoint,
			Bucket:    testBucket,
			Region:    "us-east-1",
			AccessKey: "atende",
			SecretKey: testSecret,
			Prefix:    "/media/",
			TempDir:   spool,
		}, contractMax)
		if err != nil {
			t.Fatal(err)
		}
		return store{blobs: s, spool: spool, keys: func(t *testing.T) []string { return s3Keys(t, backend) }}
	}},
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// spooled is what Put left behind in its staging directory, other than the
// blobs themselves (Disk stages beside them).
func spooled(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		if !e.IsDir() {
			left = append(left, e.Name())
		}
	}
	return left
}

func read(t *testing.T, b Blobs, sha string) []byte {
	t.Helper()
	rc, err := b.Open(context.Background(), sha)
	if err != nil {
		t.Fatalf("open %s: %v", sha[:12], err)
	}
	defer func() { _ = rc.Close() }()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestBlobsContract(t *testing.T) {
	ctx := context.Background()
	photo := []byte("\x89PNG\r\n\x1a\n not really a photo, but bytes all the same")

	for _, impl := range stores {
		open := impl.open
		t.Run(impl.name, func(t *testing.T) {
			t.Run("put returns the address and size", func(t *testing.T) {
				s := open(t)
				for _, data := range [][]byte{photo, {}, bytes.Repeat([]byte{7}, contractMax)} {
					b, err := s.blobs.Put(ctx, bytes.NewReader(data))
					if err != nil {
						t.Fatalf("put %d bytes: %v", len(data), err)
					}
					if b.SHA256 != sum(data) || b.Size != int64(len(data)) {
						t.Fatalf("put %d bytes = %+v, want %s", len(data), b, sum(data))
					}
					if got := read(t, s.blobs, b.SHA256); !bytes.Equal(got, data) {
						t.Fatalf("open %d bytes gave %d different bytes", len(data), len(got))
					}
				}
				if left := spooled(t, s.spool); len(left) != 0 {
					t.Fatalf("temporary files left: %v", left)
				}
			})

			t.Run("same bytes twice are one object", func(t *testing.T) {
				s := open(t)
				a, err := s.blobs.Put(ctx, bytes.NewReader(photo))
				if err != nil {
					t.Fatal(err)
				}
				b, err := s.blobs.Put(ctx, bytes.NewReader(photo))
				if err != nil {
					t.Fatal(err)
				}
				if a != b {
					t.Fatalf("two puts of the same bytes: %+v and %+v", a, b)
				}
				keys := s.keys(t)
				if len(keys) != 1 || !strings.HasSuffix(keys[0], a.SHA256[:2]+"/"+a.SHA256) {
					t.Fatalf("stored %v, want one object at .../%s/%s", keys, a.SHA256[:2], a.SHA256)
				}
				if got := read(t, s.blobs, a.SHA256); !bytes.Equal(got, photo) {
					t.Fatalf("open gave %q", got)
				}
			})

			t.Run("too large is refused and not kept", func(t *testing.T) {
				s := open(t)
				_, err := s.blobs.Put(ctx, bytes.NewReader(make([]byte, contractMax+1)))
				if !errors.Is(err, ErrTooLarge) {
					t.Fatalf("put over the limit: %v, want ErrTooLarge", err)
				}
				if keys := s.keys(t); len(keys) != 0 {
					t.Fatalf("stored %v after a refused put", keys)
				}
				if left := spooled(t, s.spool); len(left) != 0 {
					t.Fatalf("temporary files left: %v", left)
				}
			})

			t.Run("delete then open is not-exist, delete twice is fine", func(t *testing.T) {
				s := open(t)
				b, err := s.blobs.Put(ctx, bytes.NewReader(photo))
				if err != nil {
					t.Fatal(err)
				}
				if err := s.blobs.Delete(ctx, b.SHA256); err != nil {
					t.Fatalf("delete: %v", err)
				}
				if _, err := s.blobs.Open(ctx, b.SHA256); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("open after delete: %v, want os.ErrNotExist", err)
				}
				if err := s.blobs.Delete(ctx, b.SHA256); err != nil {
					t.Fatalf("second delete: %v", err)
				}
				if keys := s.keys(t); len(keys) != 0 {
					t.Fatalf("stored %v after delete", keys)
				}
				never := sum([]byte("never stored"))
				if _, err := s.blobs.Open(ctx, never); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("open of a blob never stored: %v, want os.ErrNotExist", err)
				}
			})

			t.Run("a bad address is an error", func(t *testing.T) {
				s := open(t)
				for _, bad := range []string{"", "abc", sum(photo)[:63], sum(photo) + "0", "../" + sum(photo), "../" + strings.Repeat("a", 61), strings.Repeat("z", 64)} {
					if _, err := s.blobs.Open(ctx, bad); err == nil {
						t.Errorf("open %q: no error", bad)
					}
					if err := s.blobs.Delete(ctx, bad); err == nil {
						t.Errorf("delete %q: no error", bad)
					}
				}
			})
		})
	}
}

func TestS3Layout(t *testing.T) {
	ctx := context.Background()
	backend, endpoint := fakeS3(t)
	for _, tc := range []struct{ prefix, want string }{
		{"", ""},
		{"tenant-a/media", "tenant-a/media/"},
		{"/media/", "media/"},
	} {
		s, err := NewS3(ctx, S3Config{Endpoint: endpoint, Bucket: testBucket, Region: "us-east-1",
			AccessKey: "atende", SecretKey: testSecret, Prefix: tc.prefix}, contractMax)
		if err != nil {
			t.Fatal(err)
		}
		data := []byte("layout " + tc.prefix)
		b, err := s.Put(ctx, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		key := tc.want + b.SHA256[:2] + "/" + b.SHA256
		obj, err := backend.HeadObject(testBucket, key)
		if err != nil {
			t.Fatalf("prefix %q: no object at %s: %v (have %v)", tc.prefix, key, err, s3Keys(t, backend))
		}
		if obj.Size != int64(len(data)) {
			t.Fatalf("object at %s is %d bytes, want %d", key, obj.Size, len(data))
		}
	}

	s, err := NewS3(ctx, S3Config{Endpoint: endpoint, Bucket: testBucket, AccessKey: "atende", SecretKey: testSecret}, contractMax)
	if err != nil {
		t.Fatalf("without a region: %v", err)
	}
	// 64 characters but not hex (upper case included: Put writes lower case).
	for _, bad := range []string{strings.Repeat("z", 64), strings.ToUpper(sum([]byte("x"))), "../" + strings.Repeat("a", 61)} {
		if _, err := s.Open(ctx, bad); err == nil {
			t.Errorf("open %q: no error", bad)
		}
		if err := s.Delete(ctx, bad); err == nil {
			t.Errorf("delete %q: no error", bad)
		}
	}
}

func TestS3PutKeepsExisting(t *testing.T) {
	ctx := context.Background()
	_, endpoint, puts := countedS3(t)
	s, err := NewS3(ctx, S3Config{Endpoint: endpoint, Bucket: testBucket, Region: "us-east-1",
		AccessKey: "atende", SecretKey: testSecret}, contractMax)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := s.Put(ctx, strings.NewReader("the same photo")); err != nil {
			t.Fatal(err)
		}
	}
	if n := puts.Load(); n != 1 {
		t.Fatalf("three puts of the same bytes made %d uploads, want 1", n)
	}
	if _, err := s.Put(ctx, strings.NewReader("")); err != nil {
		t.Fatalf("an empty file: %v", err)
	}
}

func TestNewS3Errors(t *testing.T) {
	ctx := context.Background()
	_, endpoint := fakeS3(t)
	base := S3Config{Endpoint: endpoint, Bucket: testBucket, Region: "us-east-1", AccessKey: "atende", SecretKey: testSecret}

	missing := base
	missing.Bucket = "no-such-bucket"
	_, err := NewS3(ctx, missing, contractMax)
	if err == nil || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Fatalf("missing bucket: %v, want an error naming it", err)
	}

	var errs []error
	errs = append(errs, err)
	for _, cfg := range []S3Config{
		// The scheme disagrees with Secure.
		func() S3Config { c := base; c.Endpoint = "https://" + endpoint; return c }(),
		// Nothing listens there (no region: the location lookup fails at once).
		func() S3Config { c := base; c.Endpoint = "127.0.0.1:1"; c.Region = ""; return c }(),
		func() S3Config { c := base; c.Endpoint = ""; return c }(),
		func() S3Config { c := base; c.Bucket = "Not_A_Bucket"; return c }(),
	} {
		if _, err := NewS3(ctx, cfg, contractMax); err == nil {
			t.Errorf("endpoint %q bucket %q: no error", cfg.Endpoint, cfg.Bucket)
		} else {
			errs = append(errs, err)
		}
	}
	s, err := NewS3(ctx, base, contractMax)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Put(ctx, bytes.NewReader(make([]byte, contractMax+1)))
	errs = append(errs, err)
	_, err = s.Open(ctx, sum([]byte("never stored")))
	errs = append(errs, err)
	errs = append(errs, s.Delete(ctx, "nope"))

	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		if strings.Contains(err.Error(), testSecret) {
			t.Fatalf("the secret key is in an error: %v", err)
		}
		t.Log(err)
	}
}
