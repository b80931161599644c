package channels

import (
	"html"
	"regexp"
	"strings"
	"unicode/utf8"
)

// A reply from an agent or attendant is written once, in a small Markdown
// subset — **bold**, *italic* or _italic_, ~~strike~~, `code`, [text](url),
// "- " bullets and "# " headings — and rendered into each channel's dialect.

// Rendered is one message ready for a channel: Text always, HTML for e-mail.
type Rendered struct {
	Text string `json:"text"`
	HTML string `json:"html,omitempty"`
}

var (
	mdLink   = regexp.MustCompile(`\[([^\]\n]+)\]\((https?://[^)\s]+)\)`)
	mdBold   = regexp.MustCompile(`\*\*([^*\n]+)\*\*`)
	mdItalic = regexp.MustCompile(`(^|[^\w*])[*_]([^*_\n]+)[*_]($|[^\w*])`)
	mdStrike = regexp.MustCompile(`~~([^~\n]+)~~`)
	mdCode   = regexp.MustCompile("`([^`\n]+)`")
)

// Render splits a canonical reply to the rules' length and renders each part
// in the channel's dialect.
func Render(r Rules, canonical string) []Rendered {
	parts := Split(strings.TrimSpace(canonical), r.MaxLength)
	out := make([]Rendered, 0, len(parts))
	for _, p := range parts {
		out = append(out, renderPart(r.Format, p))
	}
	return out
}

func renderPart(f Format, text string) Rendered {
	switch f {
	case FormatWhatsApp:
		return Rendered{Text: renderLines(text, "*", "*", "• ", func(s string) string {
			s = mdCode.ReplaceAllString(s, "```$1```")
			s = mdLink.ReplaceAllStringFunc(s, linkAsText(" (", ")"))
			s = mdBold.ReplaceAllString(s, "\x00$1\x00")
			s = mdItalic.ReplaceAllString(s, "${1}_${2}_$3")
			s = mdStrike.ReplaceAllString(s, "~$1~")
			return strings.ReplaceAll(s, "\x00", "*")
		})}
	case FormatHTML:
		return Rendered{Text: renderLines(text, "<b>", "</b>", "• ", inlineHTML)}
	case FormatPlain:
		return Rendered{Text: plain(text)}
	case FormatEmail:
		return Rendered{Text: plain(text), HTML: emailHTML(text)}
	default:
		return Rendered{Text: text}
	}
}

// plain drops every marker: Instagram renders none, and e-mail's text part needs none.
func plain(text string) string {
	return renderLines(text, "", "", "• ", func(s string) string {
		s = mdCode.ReplaceAllString(s, "$1")
		s = mdLink.ReplaceAllStringFunc(s, linkAsText(": ", ""))
		s = mdBold.ReplaceAllString(s, "$1")
		s = mdItalic.ReplaceAllString(s, "$1$2$3")
		return mdStrike.ReplaceAllString(s, "$1")
	})
}

// linkAsText writes [text](url) as text + open + url + close, or the bare url
// when the text is the url.
func linkAsText(open, close string) func(string) string {
	return func(m string) string {
		sub := mdLink.FindStringSubmatch(m)
		if sub[1] == sub[2] {
			return sub[2]
		}
		return sub[1] + open + sub[2] + close
	}
}

func inlineHTML(s string) string {
	s = html.EscapeString(s)
	s = mdCode.ReplaceAllString(s, "<code>$1</code>")
	s = mdLink.ReplaceAllStringFunc(s, func(m string) string {
		sub := mdLink.FindStringSubmatch(m)
		return `<a href="` + sub[2] + `">` + sub[1] + `</a>`
	})
	s = mdBold.ReplaceAllString(s, "<b>$1</b>")
	s = mdItalic.ReplaceAllString(s, "$1<i>$2</i>$3")
	return mdStrike.ReplaceAllString(s, "<s>$1</s>")
}

// renderLines renders line by line: headings become bold (open/close), "- "
// bullets become bullet, the rest goes through inline.
func renderLines(text, open, close, bullet string, inline func(string) string) string {
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "#"):
			lines[i] = open + inline(strings.TrimSpace(strings.TrimLeft(trimmed, "#"))) + close
		case strings.HasPrefix(trimmed, "- ") || strings.HasPrefix(trimmed, "* "):
			lines[i] = bullet + inline(trimmed[2:])
		default:
			lines[i] = inline(line)
		}
	}
	return strings.Join(lines, "\n")
}

// emailHTML renders paragraphs, headings and bullet lists as HTML.
func emailHTML(text string) string {
	var b strings.Builder
	var para []string
	inList := false
	flush := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + strings.Join(para, "<br>") + "</p>")
			para = nil
		}
	}
	closeList := func() {
		if inList {
			b.WriteString("</ul>")
			inList = false
		}
	}
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flush()
			closeList()
		case strings.HasPrefix(t, "#"):
			flush()
			closeList()
			b.WriteString("<h3>" + inlineHTML(strings.TrimSpace(strings.TrimLeft(t, "#"))) + "</h3>")
		case strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* "):
			flush()
			if !inList {
				b.WriteString("<ul>")
				inList = true
			}
			b.WriteString("<li>" + inlineHTML(t[2:]) + "</li>")
		default:
			closeList()
			para = append(para, inlineHTML(t))
		}
	}
	flush()
	closeList()
	return b.String()
}

// Split cuts text into parts of at most max characters, preferring paragraph,
// then sentence, then word boundaries; only a single word longer than max is cut.
func Split(text string, max int) []string {
	if max <= 0 || utf8.RuneCountInString(text) <= max {
		return []string{text}
	}
	var parts []string
	rest := text
	for utf8.RuneCountInString(rest) > max {
		cut := cutPoint(rest, max)
		parts = append(parts, strings.TrimSpace(rest[:cut]))
		rest = strings.TrimSpace(rest[cut:])
	}
	if rest != "" {
		parts = append(parts, rest)
	}
	return parts
}

// cutPoint is the byte offset to cut at, at most max runes in.
func cutPoint(s string, max int) int {
	limit := len(s)
	n := 0
	for i := range s {
		if n == max {
			limit = i
			break
		}
		n++
	}
	window := s[:limit]
	for _, sep := range []string{"\n\n", ". ", "! ", "? ", "\n", "; ", ", ", " "} {
		if i := strings.LastIndex(window, sep); i > limit/3 {
			return i + len(sep)
		}
	}
	return limit
}
