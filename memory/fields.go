package memory

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
)

// The structured fields every agent and attendant reads. Their names are the
// JSON keys stored in contacts.fields; anything else is a custom key.
const (
	FieldName            = "name"
	FieldEmail           = "email"
	FieldPhone           = "phone"
	FieldCPF             = "cpf"
	FieldNeed            = "need"
	FieldIntent          = "intent"
	FieldOrigin          = "origin"
	FieldStage           = "stage"
	FieldProductInterest = "product_interest"
	// FieldAdReferral is the ad or post that brought the customer
	// (Click-to-WhatsApp, ig.me): the card says which campaign to answer about.
	FieldAdReferral = "ad_referral"
	FieldLastAction = "last_action"
)

// Claims are identifiers a visitor typed (the webchat's pre-chat form) that
// already belong to another contact. They are unverified, so they are kept
// beside the visitor's fields, never as identities: nothing merges on them
// until an attendant decides (and the merge is recorded as theirs).
const (
	FieldClaimedEmail = "claimed_email"
	FieldClaimedPhone = "claimed_phone"
	FieldClaimedCPF   = "claimed_cpf"
)

// ClaimField is the field a claim of this kind is kept in ("" for a kind
// that is not claimed).
func ClaimField(kind IdentityKind) string {
	return map[IdentityKind]string{KindEmail: FieldClaimedEmail, KindPhone: FieldClaimedPhone, KindCPF: FieldClaimedCPF}[kind]
}

// ClaimKind is the identity kind a claim field names, and whether it is one.
func ClaimKind(field string) (IdentityKind, bool) {
	k, ok := map[string]IdentityKind{FieldClaimedEmail: KindEmail, FieldClaimedPhone: KindPhone, FieldClaimedCPF: KindCPF}[field]
	return k, ok
}

var knownFields = []string{FieldName, FieldEmail, FieldPhone, FieldCPF, FieldNeed, FieldIntent,
	FieldOrigin, FieldStage, FieldProductInterest, FieldLastAction}

var customFieldKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// maxFieldValueBytes bounds one field value once encoded; fields are a
// summary of the person, not a document store.
const maxFieldValueBytes = 4096

// Fields is the typed view over the contacts.fields jsonb: the well-known keys
// as struct fields, anything else in Custom. It marshals back to one flat object.
type Fields struct {
	Name            string
	Email           string
	Phone           string
	CPF             string
	Need            string
	Intent          string
	Origin          string
	Stage           string
	ProductInterest string
	LastAction      string
	Custom          map[string]any
}

func (f *Fields) known() map[string]*string {
	return map[string]*string{
		FieldName: &f.Name, FieldEmail: &f.Email, FieldPhone: &f.Phone, FieldCPF: &f.CPF,
		FieldNeed: &f.Need, FieldIntent: &f.Intent, FieldOrigin: &f.Origin, FieldStage: &f.Stage,
		FieldProductInterest: &f.ProductInterest, FieldLastAction: &f.LastAction,
	}
}

// Map returns the fields as one flat map without empty values.
func (f Fields) Map() map[string]any {
	out := make(map[string]any, len(knownFields)+len(f.Custom))
	for k, v := range f.Custom {
		out[k] = v
	}
	for k, p := range f.known() {
		if *p != "" {
			out[k] = *p
		}
	}
	return out
}

// Get returns a field by key, known or custom, and whether it is set.
func (f Fields) Get(key string) (any, bool) {
	v, ok := f.Map()[key]
	return v, ok
}

// MarshalJSON writes the flat object stored in the database and returned by the API.
func (f Fields) MarshalJSON() ([]byte, error) { return json.Marshal(f.Map()) }

// UnmarshalJSON reads a flat object; known keys must be strings.
func (f *Fields) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*f = Fields{}
	known := f.known()
	for k, v := range m {
		if p, ok := known[k]; ok {
			s, isString := v.(string)
			if !isString && v != nil {
				return fmt.Errorf("field %q must be a string", k)
			}
			*p = s
			continue
		}
		if f.Custom == nil {
			f.Custom = map[string]any{}
		}
		f.Custom[k] = v
	}
	return nil
}

// FieldChange is one field set, changed or cleared, as written to the timeline.
type FieldChange struct {
	Field         string `json:"field"`
	Old           any    `json:"old"`
	New           any    `json:"new"`
	By            Author `json:"by"`
	SourceEventID *int64 `json:"source_event_id,omitempty"`
}

// normalizeFieldValue validates a key and value before they are stored:
// identifier fields go through the identifier rules (an invalid CPF is never
// stored), known fields are strings, custom keys are snake_case.
func normalizeFieldValue(key string, value any) (any, error) {
	if value == nil {
		return nil, nil
	}
	switch key {
	case FieldEmail, FieldPhone, FieldCPF:
		s, ok := value.(string)
		if !ok {
			return nil, fmt.Errorf("field %q must be a string", key)
		}
		if s == "" {
			return nil, nil
		}
		kind := map[string]IdentityKind{FieldEmail: KindEmail, FieldPhone: KindPhone, FieldCPF: KindCPF}[key]
		id, err := NormalizeIdentity(kind, s)
		if err != nil {
			return nil, err
		}
		return id.Value, nil
	}
	isKnown := false
	for _, k := range knownFields {
		isKnown = isKnown || k == key
	}
	if isKnown {
		s, ok := value.(string)
		if !ok {
			return nil, fmt.Errorf("field %q must be a string", key)
		}
		if s == "" {
			return nil, nil
		}
	} else if !customFieldKey.MatchString(key) {
		return nil, fmt.Errorf("field key %q must be snake_case (a-z, 0-9, _), at most 64 characters", key)
	}
	b, err := json.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("field %q: %w", key, err)
	}
	if len(b) > maxFieldValueBytes {
		return nil, fmt.Errorf("field %q is larger than %d bytes", key, maxFieldValueBytes)
	}
	return value, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
