package channels

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Format is the formatting dialect a channel renders.
type Format string

// The dialects replies are rendered into.
const (
	FormatWhatsApp Format = "whatsapp" // *bold* _italic_ ~strike~ ```mono```
	FormatHTML     Format = "telegram_html"
	FormatPlain    Format = "plain"
	FormatMarkdown Format = "markdown"
	FormatEmail    Format = "email" // HTML plus a text part
)

// Collection is how a channel asks for missing data.
type Collection string

// The data-collection approaches.
const (
	CollectForm        Collection = "form"         // webchat: one form with every missing field
	CollectOneQuestion Collection = "one_question" // WhatsApp, Instagram: one short question per turn
	CollectInline      Collection = "inline"       // e-mail, Telegram: ask for everything in one message
)

// Template names every channel has.
const (
	TemplateGreeting      = "greeting"
	TemplateHandoffNotice = "handoff_notice"
	TemplateAway          = "away"
	TemplateCSAT          = "csat"
	TemplateWindowExpired = "window_expired"
	TemplateClarify       = "clarify"
)

// Rules are how a channel's conversation must be held: limits, dialect, tone,
// expected response time, data collection, templates and messaging window.
type Rules struct {
	Kind         Kind              `json:"kind"`
	MaxLength    int               `json:"max_length"` // characters per message; longer replies are split
	Format       Format            `json:"format"`
	Tone         string            `json:"tone"`
	ResponseTime time.Duration     `json:"response_time"` // the default first-response SLA of a handoff
	Collection   Collection        `json:"data_collection"`
	Templates    map[string]string `json:"templates"`
	// Window is how long after the customer's last message free-form messages
	// may be sent (0: no window). HumanWindow extends it for human agents
	// (Instagram's HUMAN_AGENT tag).
	Window      time.Duration `json:"window"`
	HumanWindow time.Duration `json:"human_window"`
	// WindowTemplate names the approved platform template sent when the
	// window is closed (WhatsApp); empty means nothing may be sent then.
	WindowTemplate string `json:"window_template,omitempty"`
}

func ptTemplates() map[string]string {
	return map[string]string{
		TemplateGreeting:      "Olá{{name}}! Sou o assistente virtual da {{business}}. Como posso ajudar?",
		TemplateHandoffNotice: "Vou te passar para uma pessoa da nossa equipe{{sector}}. O tempo de espera é de até {{wait}}.",
		TemplateAway:          "Nosso atendimento humano está fora do horário agora. Sua mensagem fica registrada e respondemos {{when}}.",
		TemplateCSAT:          "Como você avalia este atendimento, de 1 a 5?",
		TemplateWindowExpired: "Oi{{name}}! Temos uma atualização sobre o seu atendimento. Podemos continuar por aqui?",
		TemplateClarify:       "Para eu te direcionar certo: é sobre {{options}}?",
	}
}

// DefaultRules are each kind's built-in rules, its adapter's; a channel's
// settings override them (RulesFor). A kind without an adapter gets plain,
// unhurried rules.
func DefaultRules(kind Kind) Rules {
	if a, ok := builtin.Adapter(kind); ok {
		return a.Rules()
	}
	return Rules{Kind: kind, MaxLength: 4000, Format: FormatPlain, ResponseTime: 15 * time.Minute, Collection: CollectInline, Templates: ptTemplates()}
}

// whatsAppRules are the rules of a WhatsApp conversation, whichever API
// carries it (Cloud, Evolution): the adapters add the Cloud API's window.
func whatsAppRules(kind Kind) Rules {
	return Rules{Kind: kind, MaxLength: 4096, Format: FormatWhatsApp, ResponseTime: 5 * time.Minute,
		Tone:       "WhatsApp: rápido e informal, frases curtas, no máximo um emoji, uma pergunta por mensagem.",
		Collection: CollectOneQuestion, Templates: ptTemplates()}
}

// RulesFor returns a channel's rules: the kind's defaults with the channel's
// overrides from settings (max_length, response_time like "10m", window,
// window_template, tone, template.<name>).
func RulesFor(ch Channel) (Rules, error) {
	r := DefaultRules(ch.Kind)
	templates := make(map[string]string, len(r.Templates))
	for k, v := range r.Templates {
		templates[k] = v
	}
	r.Templates = templates
	for key, v := range ch.Settings {
		var err error
		switch key {
		case "max_length":
			r.MaxLength, err = strconv.Atoi(v)
		case "response_time":
			r.ResponseTime, err = time.ParseDuration(v)
		case "window":
			r.Window, err = time.ParseDuration(v)
		case "window_template":
			r.WindowTemplate = v
		case "tone":
			r.Tone = v
		default:
			if name, ok := strings.CutPrefix(key, "template."); ok && name != "" {
				r.Templates[name] = v
			}
		}
		if err != nil {
			return r, fmt.Errorf("%w: settings.%s: %v", ErrInvalidConfig, key, err)
		}
	}
	return r, nil
}

// WindowDecision says what may go out to a customer now.
type WindowDecision struct {
	FreeForm bool   `json:"free_form"`          // any message may be sent
	Template string `json:"template,omitempty"` // only this approved template may be sent
	Tag      string `json:"tag,omitempty"`      // send with this platform tag (HUMAN_AGENT)
	Reason   string `json:"reason,omitempty"`   // why free-form is not allowed
}

// ErrWindowClosed is returned when nothing may be sent: the window is closed
// and the channel has no template to reopen it.
var ErrWindowClosed = fmt.Errorf("messaging window closed")

// CheckWindow decides, from the customer's last message, whether a message
// may go out now: free-form inside the window; for a human on Instagram, with
// the HUMAN_AGENT tag up to 7 days; otherwise only the approved template, or
// nothing with a clear reason.
func (r Rules) CheckWindow(lastInbound, now time.Time, human bool) (WindowDecision, error) {
	if r.Window == 0 {
		return WindowDecision{FreeForm: true}, nil
	}
	since := now.Sub(lastInbound)
	if !lastInbound.IsZero() && since <= r.Window {
		return WindowDecision{FreeForm: true}, nil
	}
	if human && r.HumanWindow > 0 && !lastInbound.IsZero() && since <= r.HumanWindow {
		return WindowDecision{FreeForm: true, Tag: "HUMAN_AGENT"}, nil
	}
	reason := fmt.Sprintf("the customer's last message was %s ago, outside the %s window of %s", since.Round(time.Minute), r.Window, r.Kind)
	if lastInbound.IsZero() {
		reason = fmt.Sprintf("the customer never wrote on %s, so no window is open", r.Kind)
	}
	if r.WindowTemplate != "" {
		return WindowDecision{Template: r.WindowTemplate, Reason: reason}, nil
	}
	return WindowDecision{Reason: reason}, fmt.Errorf("%w: %s", ErrWindowClosed, reason)
}
