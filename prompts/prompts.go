// Package prompts holds what shapes the agents and is tuned by prompt
// engineers: each sector's system prompt, each channel's style snippet, the
// handoff-summary prompt and the classifier examples. The files are embedded
// in the binary; an override directory and versions created through the API
// take precedence (Library).
package prompts

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
)

//go:embed classifier/*.jsonl classifier/corpus sectors/*.md channels/*.md handoff/*.md media/*.md
var files embed.FS

// SectorExample is a message, the sector that owns it ("none" for greetings
// and noise) and whether it asks for a person. These are Atende's own examples, written for
// Brazilian customer service, not lines of any evaluation set.
type SectorExample struct {
	Text       string `json:"text"`
	Sector     string `json:"sector"`
	WantsHuman bool   `json:"wants_human,omitempty"`
}

// CorpusFiles returns the training corpus templates by file name
// ("sales.pt.txt"): what the team writes for the router to learn from, many
// businesses and wordings wider than the examples (FORMAT.md beside them).
func CorpusFiles() (map[string]string, error) {
	entries, err := fs.ReadDir(files, "classifier/corpus")
	if err != nil {
		return nil, fmt.Errorf("read corpus templates: %w", err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".txt") {
			continue
		}
		raw, err := files.ReadFile("classifier/corpus/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("read corpus templates: %w", err)
		}
		out[e.Name()] = string(raw)
	}
	return out, nil
}

// SectorExamples returns the built-in classifier examples.
func SectorExamples() ([]SectorExample, error) {
	var out []SectorExample
	err := fs.WalkDir(files, "classifier", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".jsonl") {
			return err
		}
		raw, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for n := 1; sc.Scan(); n++ {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			var e SectorExample
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				return fmt.Errorf("%s:%d: %w", path, n, err)
			}
			out = append(out, e)
		}
		return sc.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read classifier examples: %w", err)
	}
	return out, nil
}
