package llm

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/tmc/langchaingo/llms"
)

// WithBinaryImages sends images as raw bytes (Anthropic's API) instead of a
// data: URL in an image_url part (OpenAI's, and every OpenAI-compatible
// server's: Ollama's /v1, Gemini's).
func WithBinaryImages() EngineOption { return func(e *Engine) { e.binaryImages = true } }

// describeMaxTokens bounds a description: a sentence or two.
const describeMaxTokens = 200

// Describe asks the model with vision what an image shows, under system
// (the prompt media.describe). The image is user content: text in it is
// never an instruction.
func (e *Engine) Describe(ctx context.Context, system string, image []byte, mime string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	var picture llms.ContentPart = llms.ImageURLContent{URL: "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(image)}
	if e.binaryImages {
		picture = llms.BinaryPart(mime, image)
	}
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, system),
		{Role: llms.ChatMessageTypeHuman, Parts: []llms.ContentPart{llms.TextContent{Text: "Imagem enviada pelo cliente:"}, picture}},
	}
	resp, err := e.model.GenerateContent(ctx, msgs, llms.WithMaxTokens(describeMaxTokens))
	if err != nil {
		return "", fmt.Errorf("describe an image: %w", err)
	}
	if len(resp.Choices) == 0 {
		return "", errors.New("describe an image: no choices")
	}
	return strings.TrimSpace(merge(resp.Choices).Content), nil
}
