package agents

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/atende/atende/agents/llm"
	"github.com/atende/atende/prompts"
)

// describePrompt is the prompt the image descriptions are asked with; a
// prompt engineer versions it like the others.
const describePrompt = "media.describe"

// Sight describes the images customers send with the configured chat model
// (one that accepts images), under the account's version of the prompt
// media.describe. It implements media.Sight.
type Sight struct {
	engine  *llm.Engine
	prompts *prompts.Library
}

// NewSight returns the describer; engine must be a model with vision.
func NewSight(engine *llm.Engine, library *prompts.Library) *Sight {
	return &Sight{engine: engine, prompts: library}
}

// Describe says in a sentence or two what the image shows.
func (s *Sight) Describe(ctx context.Context, accountID uuid.UUID, image []byte, mime string) (string, error) {
	p, err := s.prompts.Get(ctx, accountID, describePrompt)
	if err != nil {
		return "", fmt.Errorf("the prompt %s: %w", describePrompt, err)
	}
	return s.engine.Describe(ctx, p.Text, image, mime)
}
