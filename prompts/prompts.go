// Package prompts holds what shapes the agents and is tuned by prompt
// engineers: classifier examples today; sector prompts, channel styles and
// the handoff-summary prompt as they arrive. The files are embedded in the
// binary.
package prompts

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
)

//go:embed classifier/*.jsonl sectors/*.md
var files embed.FS

// SectorExample is a message, the sector that owns it ("none" for greetings
// and noise) and whether it asks for a person. These are Atende's own examples, written for
// Brazilian customer service, not lines of any evaluation set.
type SectorExample struct {
	Text       string `json:"text"`
	Sector     string `json:"sector"`
	WantsHuman bool   `json:"wants_human,omitempty"`
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

// Prompt is a prompt's text and the version the timeline records with every
// AI event: its name and the first 12 hex digits of the SHA-256 of its text.
type Prompt struct {
	Name    string `json:"name"`
	Text    string `json:"text"`
	Version string `json:"version"`
}

// SectorPrompt returns the system prompt of a sector (the common rules plus
// the sector's own), or false for a sector without one.
func SectorPrompt(sector string) (Prompt, bool) {
	own, err := files.ReadFile("sectors/" + sector + ".md")
	if err != nil {
		return Prompt{}, false
	}
	common, _ := files.ReadFile("sectors/common.md")
	text := strings.TrimSpace(string(own)) + "\n\n" + strings.TrimSpace(string(common))
	sum := sha256.Sum256([]byte(text))
	return Prompt{Name: "sector/" + sector, Text: text, Version: "sector/" + sector + "@" + hex.EncodeToString(sum[:6])}, true
}
