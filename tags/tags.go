// Package tags owns the account's tags and their links to contacts and to
// conversations (the tables tags, contact_tags and conversation_tags): short
// labels ("vip", "reclamação") attendants, integrations and the agents put
// on a person or an episode to filter the queue by. Each add and remove is a
// 'tag' event on the contact's timeline saying who did it, and a tag.added /
// tag.removed webhook, in the same transaction; adding a tag that is there
// already (a retry) changes nothing and says nothing.
//
// It depends on memory (the timeline, the contacts) and conversations; the
// handoff queue filters by tag through MatchSQL, so the tables' SQL stays here.
package tags

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"

	"github.com/atende/atende/memory"
)

// MaxRunes bounds a tag: a label, not a note.
const MaxRunes = 40

// MaxPerSubject bounds the tags on one contact or one conversation.
const MaxPerSubject = 50

// ErrInvalid is returned for a tag that cannot be stored as given (empty,
// too long, control characters, a slash) or one too many on a subject.
var ErrInvalid = errors.New("invalid tag")

// ErrTooMany is the ErrInvalid of a subject that has MaxPerSubject tags already.
var ErrTooMany = fmt.Errorf("%w: at most %d tags on one contact or conversation", ErrInvalid, MaxPerSubject)

// Normalize returns a tag's display form (trimmed, NFC, inner spaces
// collapsed to one) and its key (the display form lower-cased: "VIP" and
// "vip" are one tag), or why it is not a tag.
func Normalize(raw string) (name, key string, err error) {
	bad := func(format string, args ...any) (string, string, error) {
		return "", "", fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	if !utf8.ValidString(raw) {
		return bad("a tag must be valid UTF-8")
	}
	s := strings.TrimSpace(norm.NFC.String(raw))
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return bad("a tag cannot contain control characters (%U)", r)
		case unicode.Is(unicode.Cf, r) && r != '\u200d': // the joiner of emoji sequences stays
			return bad("a tag cannot contain invisible formatting characters (%U)", r)
		case r == '/':
			return bad("a tag cannot contain / (it is part of the tag's URL)")
		}
	}
	name = strings.Join(strings.Fields(s), " ")
	if name == "" {
		return bad("a tag cannot be empty")
	}
	if n := utf8.RuneCountInString(name); n > MaxRunes {
		return bad("a tag has at most %d characters (this one has %d)", MaxRunes, n)
	}
	return name, strings.ToLower(name), nil
}

// Key is the key of a tag as written, or "" when it is not a valid tag (a
// filter by it matches nothing).
func Key(raw string) string {
	_, key, err := Normalize(raw)
	if err != nil {
		return ""
	}
	return key
}

// Tag is a tag on a contact or a conversation.
type Tag struct {
	Name    string    `json:"name"`
	Key     string    `json:"key"`
	AddedBy string    `json:"added_by"`
	AddedAt time.Time `json:"added_at"`
}

// Counted is one of the account's tags and how many contacts and
// conversations carry it.
type Counted struct {
	Name          string    `json:"name"`
	Key           string    `json:"key"`
	Contacts      int       `json:"contacts"`
	Conversations int       `json:"conversations"`
	CreatedAt     time.Time `json:"created_at"`
}

// Subject is what a tag is put on: a contact or a conversation.
type Subject struct {
	ID           uuid.UUID
	conversation bool
}

// Contact names a contact as the subject.
func Contact(id uuid.UUID) Subject { return Subject{ID: id} }

// Conversation names a conversation as the subject.
func Conversation(id uuid.UUID) Subject { return Subject{ID: id, conversation: true} }

// IsConversation says whether the subject is a conversation.
func (s Subject) IsConversation() bool { return s.conversation }

// table and column are the link table of the subject's kind and its id column
// (constants, never input).
func (s Subject) table() (table, column string) {
	if s.conversation {
		return "conversation_tags", "conversation_id"
	}
	return "contact_tags", "contact_id"
}

// Actor is who added or removed a tag: the timeline event's author and the
// name the event and the webhook give ("Ana Souza", "api", "ai").
type Actor struct {
	Author memory.Author
	Name   string
}

// Attendant is a person of the team, by their name.
func Attendant(name string) Actor {
	if strings.TrimSpace(name) == "" {
		name = "equipe"
	}
	return Actor{Author: memory.AuthorHuman, Name: name}
}

// API is whoever holds an API key (an integration, a script): no person is
// known, so none is named.
var API = Actor{Author: memory.AuthorAPI, Name: "api"}

// AI is the agents' tag_contact tool.
var AI = Actor{Author: memory.AuthorAI, Name: "ai"}

// phrase is who did it, in the timeline's words.
func (a Actor) phrase() string {
	switch a {
	case API:
		return "pela API"
	case AI:
		return "pelo assistente"
	case Attendant(""):
		return "pela equipe"
	}
	return "por " + a.Name
}
