package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/atende/atende/media"
)

// MediaSettings are where customers' files are kept and how voice notes are
// transcribed.
type MediaSettings struct {
	// S3 is set when ATENDE_MEDIA_S3_ENDPOINT is: files go to that bucket
	// (several replicas share it) instead of MediaDir on local disk.
	S3 *media.S3Config
	// Transcribe is set when ATENDE_TRANSCRIBE_PROVIDER=openai: voice notes
	// are sent to that OpenAI-compatible /v1/audio/transcriptions server.
	Transcribe *media.TranscriberConfig
	// Describe is ATENDE_LLM_VISION=true: the chat model accepts images, so
	// each image a customer sends is described in a sentence on its message.
	Describe bool
	// TranscriptWait is how long a turn waits for a file's words
	// (ATENDE_TRANSCRIBE_WAIT, 30s).
	TranscriptWait time.Duration
}

// mediaSettings reads ATENDE_MEDIA_S3_* and ATENDE_TRANSCRIBE_*.
func mediaSettings(env Getenv, bad *settingsProblems, duration func(name, def string) time.Duration) MediaSettings {
	var out MediaSettings
	if endpoint := strings.TrimSpace(env("ATENDE_MEDIA_S3_ENDPOINT")); endpoint != "" {
		secure := true
		if v := strings.TrimSpace(env("ATENDE_MEDIA_S3_SECURE")); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad.add("ATENDE_MEDIA_S3_SECURE", "want true or false, got %q", v)
			}
			secure = b
		}
		out.S3 = &media.S3Config{Endpoint: endpoint, Bucket: strings.TrimSpace(env("ATENDE_MEDIA_S3_BUCKET")),
			Region: strings.TrimSpace(env("ATENDE_MEDIA_S3_REGION")), AccessKey: env("ATENDE_MEDIA_S3_ACCESS_KEY"),
			SecretKey: env("ATENDE_MEDIA_S3_SECRET_KEY"), Secure: secure, Prefix: strings.TrimSpace(env("ATENDE_MEDIA_S3_PREFIX"))}
		if out.S3.Bucket == "" {
			bad.add("ATENDE_MEDIA_S3_BUCKET", "required with ATENDE_MEDIA_S3_ENDPOINT")
		}
	}
	switch provider := strings.ToLower(strings.TrimSpace(env("ATENDE_TRANSCRIBE_PROVIDER"))); provider {
	case "":
	case "openai":
		key := env("ATENDE_TRANSCRIBE_API_KEY")
		if key == "" {
			key = env("OPENAI_API_KEY")
		}
		base := strings.TrimSpace(env("ATENDE_TRANSCRIBE_BASE_URL"))
		if base != "" {
			if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad.add("ATENDE_TRANSCRIBE_BASE_URL", "want an http(s) URL such as https://api.openai.com/v1, got %q", base)
			}
		}
		language := strings.TrimSpace(env("ATENDE_TRANSCRIBE_LANGUAGE"))
		if language == "" {
			language = "pt"
		}
		out.Transcribe = &media.TranscriberConfig{BaseURL: base, Model: strings.TrimSpace(env("ATENDE_TRANSCRIBE_MODEL")), APIKey: key,
			Language: language, Timeout: duration("ATENDE_TRANSCRIBE_TIMEOUT", "60s")}
	default:
		bad.add("ATENDE_TRANSCRIBE_PROVIDER", "want openai (any OpenAI-compatible /v1/audio/transcriptions server) or nothing, got %q", provider)
	}
	if v := strings.TrimSpace(env("ATENDE_LLM_VISION")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad.add("ATENDE_LLM_VISION", "want true or false, got %q", v)
		}
		out.Describe = b
		if b && strings.TrimSpace(env("ATENDE_LLM_PROVIDER")) == "" {
			bad.add("ATENDE_LLM_VISION", "needs ATENDE_LLM_PROVIDER: images are described by the chat model")
		}
	}
	out.TranscriptWait = duration("ATENDE_TRANSCRIBE_WAIT", "30s")
	return out
}

// blobStore is where files are kept: the S3 bucket when configured, else
// the local directory (`make run` needs nothing more).
func (s Settings) blobStore(ctx context.Context) (media.Blobs, error) {
	if s.Media.S3 == nil {
		return media.NewDisk(s.MediaDir, s.MediaMaxBytes)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second) // a dead endpoint fails the start, it does not hang it
	defer cancel()
	store, err := media.NewS3(ctx, *s.Media.S3, s.MediaMaxBytes)
	if err != nil {
		return nil, fmt.Errorf("media store: %w", err)
	}
	return store, nil
}
