package memory

import (
	"fmt"
	"sync"

	"github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
)

// TokenCounter counts tokens with the cl100k_base BPE, loaded from files
// compiled into the binary: nothing is downloaded at run time.
type TokenCounter struct {
	enc *tiktoken.Tiktoken
}

var setOfflineLoader sync.Once

// NewTokenCounter loads the offline BPE.
func NewTokenCounter() (*TokenCounter, error) {
	setOfflineLoader.Do(func() { tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader()) })
	enc, err := tiktoken.GetEncoding("cl100k_base")
	if err != nil {
		return nil, fmt.Errorf("load cl100k_base tokenizer: %w", err)
	}
	return &TokenCounter{enc: enc}, nil
}

// Count returns the number of tokens in s.
func (c *TokenCounter) Count(s string) int { return len(c.enc.EncodeOrdinary(s)) }

// Truncate cuts s to at most max tokens, marking the cut with an ellipsis.
func (c *TokenCounter) Truncate(s string, max int) string {
	if max <= 0 {
		return ""
	}
	toks := c.enc.EncodeOrdinary(s)
	if len(toks) <= max {
		return s
	}
	if max == 1 {
		return "…"
	}
	return c.enc.Decode(toks[:max-1]) + "…"
}
