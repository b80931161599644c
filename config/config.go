// Package config reads the business file (ATENDE_CONFIG, YAML): the accounts,
// their channels, their sectors (prompt, tools, knowledge, team, handoff
// policy, SLA) and the HTTP tools their agents may call. A fresh
// start needs no file at all. Secrets are never written in the file: values
// like ${WHATSAPP_APP_SECRET} are read from the environment.
package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/agents"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/prompts"
)

// File is the business file.
type File struct {
	Accounts []Account `yaml:"accounts"`
}

// Account is one business of the file.
type Account struct {
	Slug     string    `yaml:"slug"`
	Name     string    `yaml:"name"`
	Channels []Channel `yaml:"channels"`
	// Sectors replace the built-in sales, support and billing when present.
	Sectors []agents.Sector `yaml:"sectors"`
	// Tools are HTTP tools sectors may allow by name.
	Tools []agents.HTTPTool `yaml:"tools"`
	// Attendants are the people of the inbox (passwords as ${ENV}).
	Attendants []handoff.NewAttendant `yaml:"attendants"`
	// Teams answer sectors' handoffs: members, business hours, escalation.
	Teams []handoff.Team `yaml:"teams"`
}

// Channel is one channel instance of an account.
type Channel struct {
	Kind     string            `yaml:"kind"`
	Name     string            `yaml:"name"`
	Settings map[string]string `yaml:"settings"`
	Secrets  map[string]string `yaml:"secrets"`
}

// ErrMissingEnv is returned when the file names an environment variable that is not set.
var ErrMissingEnv = errors.New("environment variable not set")

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Load reads and checks the file at path, expanding ${VAR} from lookup
// (os.LookupEnv in production).
func Load(path string, lookup func(string) (string, bool)) (File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("read config %s: %w", path, err)
	}
	var missing []string
	expanded := envRef.ReplaceAllStringFunc(string(raw), func(m string) string {
		name := envRef.FindStringSubmatch(m)[1]
		v, ok := lookup(name)
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return File{}, fmt.Errorf("config %s: %w: %v", path, ErrMissingEnv, missing)
	}
	var f File
	dec := yaml.NewDecoder(strings.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return File{}, fmt.Errorf("config %s: %w", path, err)
	}
	for i, a := range f.Accounts {
		if a.Slug == "" {
			return File{}, fmt.Errorf("config %s: account %d has no slug", path, i+1)
		}
	}
	return f, nil
}

// Stores are where Apply writes.
type Stores struct {
	Accounts *accounts.Store
	Channels *channels.Store
	Sectors  *agents.SectorStore
	Prompts  *prompts.Library
	Handoffs *handoff.Service
}

// Apply makes the database hold what the file says: each account exists, each
// of its channels has the file's settings and secrets, and, when the file
// lists sectors, the account has exactly those sectors and tools. A sector's
// prompt becomes a version of "sectors.<name>", activated when the file's
// text is new (so an API activation stands until the file changes). Applying
// twice changes nothing; channels created by API and absent from the file are kept.
func (f File) Apply(ctx context.Context, st Stores) error {
	accts, chs := st.Accounts, st.Channels
	for _, a := range f.Accounts {
		name := a.Name
		if name == "" {
			name = a.Slug
		}
		acct, err := accts.Ensure(ctx, a.Slug, name)
		if err != nil {
			return err
		}
		for _, c := range a.Channels {
			if _, err := chs.Put(ctx, acct.ID, channels.NewChannel{Kind: channels.Kind(c.Kind), Name: c.Name,
				Settings: c.Settings, Secrets: c.Secrets}); err != nil {
				return fmt.Errorf("account %s, channel %q: %w", a.Slug, c.Name, err)
			}
		}
		for _, at := range a.Attendants {
			if _, err := st.Handoffs.PutAttendant(ctx, acct.ID, at); err != nil {
				return fmt.Errorf("account %s, attendant %s: %w", a.Slug, at.Email, err)
			}
		}
		if len(a.Teams) > 0 {
			if err := st.Handoffs.PutTeams(ctx, acct.ID, a.Teams); err != nil {
				return fmt.Errorf("account %s: %w", a.Slug, err)
			}
		}
		if len(a.Sectors) == 0 && len(a.Tools) == 0 {
			continue
		}
		if err := st.Sectors.Put(ctx, acct.ID, a.Sectors, a.Tools); err != nil {
			return fmt.Errorf("account %s: %w", a.Slug, err)
		}
		for _, s := range a.Sectors {
			if s.Prompt == "" {
				continue
			}
			p, created, err := st.Prompts.Create(ctx, acct.ID, "sectors."+s.Name, s.Prompt, "business file", "config", false)
			if err != nil {
				return fmt.Errorf("account %s, sector %s prompt: %w", a.Slug, s.Name, err)
			}
			if created {
				if _, err := st.Prompts.Activate(ctx, acct.ID, p.Version); err != nil {
					return fmt.Errorf("account %s, sector %s prompt: %w", a.Slug, s.Name, err)
				}
			}
		}
	}
	return nil
}
