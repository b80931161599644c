// Package config reads the business file (ATENDE_CONFIG, YAML): the accounts,
// their channels, their sectors (prompt, tools, knowledge, team, handoff
// policy, SLA) and the HTTP tools their agents may call. A fresh
// start needs no file at all. Secrets are never written in the file: values
// like ${WHATSAPP_APP_SECRET} are read from the environment. API keys are not
// in it at all: `atende keys create` issues them.
package config

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/agents"
	"github.com/atende/atende/channels"
	"github.com/atende/atende/handoff"
	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/prompts"
)

// File is the business file.
type File struct {
	Accounts []Account `yaml:"accounts"`
}

// Account is one business of the file, ensured (created when missing) by
// Apply; an existing account keeps its name. It has no API keys: they are
// issued with `atende keys create -account SLUG` (or POST /api/v1/keys).
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
//
// The file is parsed first and ${VAR} is substituted inside scalar values
// only, so a secret is taken exactly as the environment holds it: a '#', a
// ": ", a quote or a newline in it can neither cut the value nor change the
// file's structure, and a reference in a comment or a key is not expanded.
// A substituted value is a string; a bare ${VAR} whose value YAML reads as a
// number or a boolean (capacity: ${CAPACITY}) also fills a field of that type.
// Unset variables are an ErrMissingEnv naming each one with its line and
// place in the file.
func Load(path string, lookup func(string) (string, bool)) (File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("read config %s: %w", path, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return File{}, fmt.Errorf("config %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return File{}, fmt.Errorf("config %s: the file is empty", path)
	}
	// Before ${VAR} expansion: `api_key: ${KEY}` is refused for what it is,
	// not for an unset variable.
	if found := keyEntries(&doc); len(found) > 0 {
		return File{}, fmt.Errorf("config %s: %s: API keys are never written in the business file; "+
			"issue them with `atende keys create -account SLUG` (printed once, stored hashed)", path, strings.Join(found, "; "))
	}
	var missing []string
	expandNode(&doc, "", lookup, &missing)
	if len(missing) > 0 {
		return File{}, fmt.Errorf("config %s: %w: %s", path, ErrMissingEnv, strings.Join(missing, "; "))
	}
	// Node.Decode has no KnownFields: misspelt keys are looked for here.
	var unknown []string
	unknownKeys(&doc, reflect.TypeFor[File](), &unknown)
	if len(unknown) > 0 {
		return File{}, fmt.Errorf("config %s: %s", path, strings.Join(unknown, "; "))
	}
	var f File
	if err := doc.Decode(&f); err != nil {
		return File{}, fmt.Errorf("config %s: %w", path, err)
	}
	for i, a := range f.Accounts {
		if a.Slug == "" {
			return File{}, fmt.Errorf("config %s: account %d has no slug", path, i+1)
		}
	}
	return f, nil
}

// keyFieldNames are the keys someone might write an API key under.
var keyFieldNames = []string{"key", "keys", "api_key", "api_keys", "apikey", "apikeys"}

// keyEntries finds API keys written at the top of the file or in an account:
// keys are issued by command, printed once and stored hashed, so a key in a
// file (committed, copied, shared) is refused rather than reported as an
// unknown field that someone might "fix" by finding where it goes.
func keyEntries(doc *yaml.Node) []string {
	var found []string
	check := func(m *yaml.Node, at string) {
		if m.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			if slices.Contains(keyFieldNames, strings.ReplaceAll(strings.ToLower(k.Value), "-", "_")) {
				found = append(found, fmt.Sprintf("line %d: %s%s", k.Line, at, k.Value))
			}
		}
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	check(root, "")
	if root.Kind != yaml.MappingNode {
		return found
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "accounts" || root.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for j, a := range root.Content[i+1].Content {
			check(a, fmt.Sprintf("accounts[%d].", j))
		}
	}
	return found
}

// expandNode substitutes ${VAR} in the scalar values under n (not in keys,
// not twice through an alias), recording each unset variable with where it
// is. at is n's place in the file, e.g. accounts[0].channels[1].secrets.app_secret.
func expandNode(n *yaml.Node, at string, lookup func(string) (string, bool), missing *[]string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			expandNode(c, at, lookup, missing)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			expandNode(c, fmt.Sprintf("%s[%d]", at, i), lookup, missing)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if at != "" {
				key = at + "." + key
			}
			expandNode(n.Content[i+1], key, lookup, missing)
		}
	case yaml.ScalarNode:
		if !envRef.MatchString(n.Value) {
			return
		}
		bare := n.Style == 0 && envRef.FindString(n.Value) == n.Value
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(m string) string {
			name := envRef.FindStringSubmatch(m)[1]
			v, ok := lookup(name)
			if !ok {
				*missing = append(*missing, fmt.Sprintf("%s at line %d (%s)", name, n.Line, at))
			}
			return v
		})
		n.Tag = "!!str"
		if bare && readsAsNumberOrBool(n.Value) {
			n.Tag = "" // resolved by its text, as if written in the file
		}
	}
}

// readsAsNumberOrBool reports whether YAML reads v, written plain, as a
// number or a boolean. Null-like values (empty, "~", "null") do not: they
// would empty a string field, so they stay strings.
func readsAsNumberOrBool(v string) bool {
	var out any
	if err := (&yaml.Node{Kind: yaml.ScalarNode, Value: v}).Decode(&out); err != nil {
		return false
	}
	switch out.(type) {
	case bool, int, int64, uint64, float64:
		return true
	}
	return false
}

var (
	yamlUnmarshaler = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// unknownKeys records the mapping keys under n that no field of t takes, as
// a yaml.Decoder with KnownFields would, so a misspelt key is an error rather
// than silently ignored. Types that decode themselves are not looked into.
func unknownKeys(n *yaml.Node, t reflect.Type, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		}
		unknownKeys(n, t, out)
		return
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(yamlUnmarshaler) || pt.Implements(textUnmarshaler) {
		return
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields, anyKey := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" { // <<: *defaults, or <<: [*a, *b]
				if v.Kind == yaml.SequenceNode {
					for _, m := range v.Content {
						unknownKeys(m, t, out)
					}
				} else {
					unknownKeys(v, t, out)
				}
				continue
			}
			if ft, ok := fields[k.Value]; ok {
				unknownKeys(v, ft, out)
			} else if !anyKey {
				*out = append(*out, fmt.Sprintf("line %d: field %s not found in type %s", k.Line, k.Value, t))
			}
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			unknownKeys(c, t.Elem(), out)
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			unknownKeys(n.Content[i], t.Elem(), out)
		}
	}
}

// yamlFields maps the keys a struct takes to their types, following yaml.v3's
// rules: the tag's name or the lower-cased field name, "-" skipped, inline
// structs flattened; anyKey is true when an inline map takes any key.
func yamlFields(t reflect.Type) (fields map[string]reflect.Type, anyKey bool) {
	fields = map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if slices.Contains(strings.Split(opts, ","), "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Map {
				anyKey = true
				continue
			}
			inner, innerAny := yamlFields(ft)
			for k, v := range inner {
				fields[k] = v
			}
			anyKey = anyKey || innerAny
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields, anyKey
}

// Stores are where Apply writes.
type Stores struct {
	Accounts *accounts.Store
	Channels *channels.Store
	Sectors  *agents.SectorStore
	Prompts  *prompts.Library
	Handoffs *handoff.Service
	// Outbound refuses, at apply time, a channel base_url or a tool URL the
	// server would never be allowed to reach, naming it and the setting
	// that allows it (the dial is checked again).
	Outbound outbound.Policy
}

// checkOutbound names the first URL of the account's channels and tools that
// the outbound policy refuses (one that is no http(s) URL at all is the
// channel's or sector's validation to name).
func checkOutbound(ctx context.Context, policy outbound.Policy, a Account) error {
	hint := " (a host on your own network is allowed with ATENDE_OUTBOUND_ALLOW)"
	for _, c := range a.Channels {
		if err := channels.CheckReachable(ctx, policy, c.Settings); errors.Is(err, outbound.ErrBlocked) {
			return fmt.Errorf("channel %q %w%s", c.Name, err, hint)
		}
	}
	for _, t := range a.Tools {
		if err := policy.CheckURL(ctx, t.URL); errors.Is(err, outbound.ErrBlocked) {
			return fmt.Errorf("tool %s url: %w%s", t.Name, err, hint)
		}
	}
	return nil
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
		if err := checkOutbound(ctx, st.Outbound, a); err != nil {
			return fmt.Errorf("account %s: %w", a.Slug, err)
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
