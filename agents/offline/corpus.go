package offline

import (
	"bufio"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Corpus is the training corpus the team writes as templates
// (prompts/classifier/corpus, FORMAT.md there): slots per business and
// shared ones, and templates per sector. Generate expands it into labelled
// sentences; the evaluation sets never go in.
type Corpus struct {
	langs map[string]*corpusLang
}

// corpusLang is one language's slots and templates: slots are shared by
// every file of the language.
type corpusLang struct {
	global     map[string][]string
	businesses []business
	templates  []template
}

// business is one kind of business and the words its customers use for
// what it sells.
type business struct {
	id    string
	slots map[string][]string
}

// template is one line of a @templates section.
type template struct {
	where  string // file:line, for errors
	sector string
	human  bool
	n      int
	body   []node
	needs  []string // slots outside any alternation: a business must have them
}

// node is a piece of a template: literal text, a choice or a slot.
type node struct {
	text    string
	choices [][]node
	slot    string
	bare    bool // {slot-}: without its leading article
}

// corpusSectors are the labels a template section may carry.
var corpusSectors = map[string]bool{"sales": true, "support": true, "billing": true, "none": true}

// ParseCorpus reads template files by name ("sales.pt.txt"); the language is
// the name's second-to-last part. Every error names the file and line.
func ParseCorpus(files map[string]string) (*Corpus, error) {
	c := &Corpus{langs: map[string]*corpusLang{}}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		parts := strings.Split(name, ".")
		if len(parts) < 3 || parts[len(parts)-1] != "txt" {
			return nil, fmt.Errorf("corpus %s: want NAME.LANG.txt", name)
		}
		lang := c.lang(parts[len(parts)-2])
		if err := lang.parseFile(name, files[name]); err != nil {
			return nil, err
		}
	}
	for _, l := range c.langs {
		if err := l.check(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Corpus) lang(code string) *corpusLang {
	l, ok := c.langs[code]
	if !ok {
		l = &corpusLang{global: map[string][]string{}}
		c.langs[code] = l
	}
	return l
}

func (l *corpusLang) parseFile(name, text string) error {
	var slots map[string][]string // the block slot lines go to
	var section *template         // the @templates header in effect
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		where := fmt.Sprintf("%s:%d", name, n)
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "@") {
			head := strings.Fields(strings.TrimPrefix(stripComment(line), "@"))
			if len(head) == 0 {
				return fmt.Errorf("corpus %s: empty directive", where)
			}
			switch head[0] {
			case "global":
				slots, section = l.global, nil
			case "business":
				if len(head) < 2 {
					return fmt.Errorf("corpus %s: @business needs an id", where)
				}
				b := business{id: strings.TrimSuffix(head[1], ":"), slots: map[string][]string{}}
				l.businesses = append(l.businesses, b)
				slots, section = b.slots, nil
			case "templates":
				t, err := sectionHeader(where, head[1:])
				if err != nil {
					return err
				}
				slots, section = nil, &t
			default:
				return fmt.Errorf("corpus %s: unknown directive @%s", where, head[0])
			}
			continue
		}
		switch {
		case slots != nil:
			key, values, ok := strings.Cut(line, "=")
			key = strings.TrimSpace(key)
			if !ok || key == "" || strings.ContainsAny(key, " {}|") {
				return fmt.Errorf("corpus %s: want slot = value | value", where)
			}
			for _, v := range strings.Split(values, "|") {
				if v = strings.TrimSpace(v); v != "" {
					slots[key] = append(slots[key], v)
				}
			}
		case section != nil:
			body, err := parseTemplate(line)
			if err != nil {
				return fmt.Errorf("corpus %s: %w", where, err)
			}
			t := *section
			t.where, t.body, t.needs = where, body, requiredSlots(body)
			l.templates = append(l.templates, t)
		default:
			return fmt.Errorf("corpus %s: a line outside any @global, @business or @templates block", where)
		}
	}
	return sc.Err()
}

// stripComment drops a trailing "# …" from a directive line.
func stripComment(line string) string {
	if i := strings.Index(line, "#"); i >= 0 {
		return line[:i]
	}
	return line
}

func sectionHeader(where string, words []string) (template, error) {
	t := template{n: 3}
	for i, w := range words {
		switch {
		case i == 0 && corpusSectors[w]:
			t.sector = w
		case w == "human":
			t.human = true
		case strings.HasPrefix(w, "x"):
			n, err := strconv.Atoi(w[1:])
			if err != nil || n < 1 || n > 50 {
				return t, fmt.Errorf("corpus %s: bad count %q", where, w)
			}
			t.n = n
		default:
			return t, fmt.Errorf("corpus %s: @templates SECTOR [human] [xN], not %q", where, w)
		}
	}
	if t.sector == "" {
		return t, fmt.Errorf("corpus %s: @templates needs a sector (sales, support, billing, none)", where)
	}
	return t, nil
}

// parseTemplate reads literal text, {a|b} choices, {slot} and {slot-}.
func parseTemplate(s string) ([]node, error) {
	nodes, rest, err := parseNodes(s, false)
	if err != nil {
		return nil, err
	}
	if rest != "" {
		return nil, fmt.Errorf("unbalanced '}' before %q", rest)
	}
	return nodes, nil
}

// parseNodes reads until the end of s or, inside braces, until '|' or '}'
// (left at the head of rest).
func parseNodes(s string, inside bool) ([]node, string, error) {
	var out []node
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, node{text: lit.String()})
			lit.Reset()
		}
	}
	for len(s) > 0 {
		switch s[0] {
		case '{':
			flush()
			n, rest, err := parseBrace(s[1:])
			if err != nil {
				return nil, "", err
			}
			out = append(out, n)
			s = rest
		case '|', '}':
			if !inside {
				return nil, "", fmt.Errorf("unexpected %q outside braces", s[0])
			}
			flush()
			return out, s, nil
		default:
			lit.WriteByte(s[0])
			s = s[1:]
		}
	}
	if inside {
		return nil, "", fmt.Errorf("unclosed '{'")
	}
	flush()
	return out, "", nil
}

// parseBrace reads what follows a '{' up to its '}'.
func parseBrace(s string) (node, string, error) {
	if end := strings.IndexAny(s, "{|}"); end >= 0 && s[end] == '}' && isSlotName(s[:end]) {
		name := s[:end]
		n := node{slot: strings.TrimSuffix(name, "-"), bare: strings.HasSuffix(name, "-")}
		return n, s[end+1:], nil
	}
	var n node
	for {
		alt, rest, err := parseNodes(s, true)
		if err != nil {
			return n, "", err
		}
		n.choices = append(n.choices, alt)
		if rest[0] == '}' {
			if len(n.choices) < 2 {
				return n, "", fmt.Errorf("{%s} is neither a slot name nor a choice", s[:len(s)-len(rest)])
			}
			return n, rest[1:], nil
		}
		s = rest[1:]
	}
}

func isSlotName(s string) bool {
	s = strings.TrimSuffix(s, "-")
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// requiredSlots are the slots a template always uses (outside choices).
func requiredSlots(body []node) []string {
	var out []string
	for _, n := range body {
		if n.slot != "" {
			out = append(out, n.slot)
		}
	}
	return out
}

// check fails on a slot no business or global block defines, so a typo in a
// template cannot silently drop it.
func (l *corpusLang) check() error {
	known := map[string]bool{}
	for k := range l.global {
		known[k] = true
	}
	for _, b := range l.businesses {
		for k := range b.slots {
			known[k] = true
		}
	}
	for _, t := range l.templates {
		var walk func([]node) error
		walk = func(ns []node) error {
			for _, n := range ns {
				if n.slot != "" && !known[n.slot] {
					return fmt.Errorf("corpus %s: no block defines slot {%s}", t.where, n.slot)
				}
				for _, alt := range n.choices {
					if err := walk(alt); err != nil {
						return err
					}
				}
			}
			return nil
		}
		if err := walk(t.body); err != nil {
			return err
		}
	}
	return nil
}
