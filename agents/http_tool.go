package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/atende/atende/internal/sign"
)

// HTTPTool is a tool declared in the business file: the agent calls it with
// JSON arguments and Atende POSTs them to the URL (an n8n workflow that
// schedules, issues a boleto, checks an order). Each call is signed with the
// secret so the receiver can tell it came from Atende.
type HTTPTool struct {
	Name        string         `json:"name" yaml:"name"`
	Description string         `json:"description" yaml:"description"`
	Parameters  map[string]any `json:"parameters" yaml:"parameters"` // JSON schema of the arguments
	URL         string         `json:"url" yaml:"url"`
	Secret      string         `json:"-" yaml:"secret"`
	Timeout     Duration       `json:"timeout,omitempty" yaml:"timeout"`
}

// maxToolResponse bounds what a tool's answer may add to the prompt.
const maxToolResponse = 8 << 10

func (t HTTPTool) validate() error {
	if !sectorName.MatchString(t.Name) {
		return fmt.Errorf("%w: tool name %q (lower-case letters, digits, - and _)", ErrInvalidSector, t.Name)
	}
	for _, b := range builtinTools {
		if t.Name == b {
			return fmt.Errorf("%w: tool %q is built in", ErrInvalidSector, t.Name)
		}
	}
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: tool %s: url %q must be http(s)://host/...", ErrInvalidSector, t.Name, t.URL)
	}
	if t.Description == "" {
		return fmt.Errorf("%w: tool %s needs a description (the model reads it to decide when to call)", ErrInvalidSector, t.Name)
	}
	if t.Parameters == nil {
		return nil
	}
	if typ, _ := t.Parameters["type"].(string); typ != "object" {
		return fmt.Errorf("%w: tool %s: parameters must be a JSON schema of type object", ErrInvalidSector, t.Name)
	}
	return nil
}

// ToolCall is what an HTTP tool receives.
type ToolCall struct {
	Tool           string         `json:"tool"`
	Arguments      map[string]any `json:"arguments"`
	AccountID      uuid.UUID      `json:"account_id"`
	ContactID      uuid.UUID      `json:"contact_id"`
	ConversationID uuid.UUID      `json:"conversation_id"`
	Sector         string         `json:"sector"`
}

// Call checks the arguments against the schema and POSTs the call. A non-2xx
// answer is an error the model is told about.
func (t HTTPTool) Call(ctx context.Context, client *http.Client, call ToolCall, now time.Time) (string, error) {
	if err := checkArguments(t.Parameters, call.Arguments); err != nil {
		return "", err
	}
	body, err := json.Marshal(call)
	if err != nil {
		return "", fmt.Errorf("encode call of %s: %w", t.Name, err)
	}
	timeout := time.Duration(t.Timeout)
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("call %s: %w", t.Name, err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Atende")
	req.Header.Set("X-Atende-Tool", t.Name)
	req.Header.Set("X-Atende-Timestamp", ts)
	if t.Secret != "" {
		req.Header.Set("X-Atende-Signature", sign.Signature(t.Secret, ts, body))
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("call %s: %w", t.Name, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxToolResponse))
	if err != nil {
		return "", fmt.Errorf("read answer of %s: %w", t.Name, err)
	}
	if resp.StatusCode/100 != 2 {
		// The body stays out: it is whatever the remote wrote, and this text
		// reaches the model, the log and the timeline.
		return "", fmt.Errorf("%s answered HTTP %d", t.Name, resp.StatusCode)
	}
	return string(out), nil
}

// checkArguments enforces the schema's required properties and the types of
// the top-level ones: the model is told what is wrong and may call again.
func checkArguments(schema map[string]any, args map[string]any) error {
	if schema == nil {
		return nil
	}
	props, _ := schema["properties"].(map[string]any)
	var problems []string
	if req, ok := schema["required"].([]any); ok {
		for _, r := range req {
			name, _ := r.(string)
			if _, ok := args[name]; !ok {
				problems = append(problems, "missing "+name)
			}
		}
	}
	for name, v := range args {
		p, ok := props[name].(map[string]any)
		if !ok {
			if props != nil && schema["additionalProperties"] == false {
				problems = append(problems, "unknown "+name)
			}
			continue
		}
		want, _ := p["type"].(string)
		if want != "" && !hasJSONType(v, want) {
			problems = append(problems, fmt.Sprintf("%s must be %s", name, want))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("invalid arguments: %s", strings.Join(problems, "; "))
	}
	return nil
}

func hasJSONType(v any, want string) bool {
	switch want {
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	}
	return true
}
