package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

type keyJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Key        string     `json:"key"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// An account's keys are managed through the API within the account: issued
// once in clear, listed by prefix and label, revoked (refused at once); an
// other account's key id is not found, and the last key is kept.
func TestKeysAreManagedWithinTheAccount(t *testing.T) {
	s := newTestServer(t)
	var list struct{ Keys []keyJSON }
	if code := s.call(t, s.keyA, "GET", "/api/v1/keys", nil, &list); code != 200 || len(list.Keys) != 1 ||
		list.Keys[0].Prefix != s.keyA[:8] || list.Keys[0].Name != "test" || list.Keys[0].RevokedAt != nil || list.Keys[0].LastUsedAt == nil {
		t.Fatalf("acme's keys: %d %+v", code, list)
	}
	ownID := list.Keys[0].ID

	var issued keyJSON
	if code := s.call(t, s.keyA, "POST", "/api/v1/keys", map[string]string{"name": "zapier"}, &issued); code != 201 ||
		!strings.HasPrefix(issued.Key, "atd_") || issued.Prefix != issued.Key[:8] || issued.Name != "zapier" || issued.ID == "" {
		t.Fatalf("issue a key: %d %+v", code, issued)
	}
	var raw json.RawMessage
	if code := s.call(t, issued.Key, "GET", "/api/v1/keys", nil, &raw); code != 200 {
		t.Fatalf("the new key works: %d", code)
	}
	if strings.Contains(string(raw), issued.Key) || strings.Contains(string(raw), s.keyA) || strings.Contains(string(raw), `"key"`) {
		t.Fatalf("a list shows no key: %s", raw)
	}
	if err := json.Unmarshal(raw, &list); err != nil || len(list.Keys) != 2 || list.Keys[1].ID != issued.ID {
		t.Fatalf("two keys now: %s %v", raw, err)
	}
	var noBody keyJSON
	if code := s.call(t, s.keyA, "POST", "/api/v1/keys", nil, &noBody); code != 201 || noBody.Name != "api" {
		t.Fatalf("no body, the default label: %d %+v", code, noBody)
	}
	if code := s.call(t, s.keyA, "POST", "/api/v1/keys", map[string]string{"name": strings.Repeat("x", 101)}, nil); code != 422 {
		t.Fatalf("a label too long: %d", code)
	}

	// globex neither sees nor revokes acme's keys.
	if code := s.call(t, s.keyB, "GET", "/api/v1/keys", nil, &list); code != 200 || len(list.Keys) != 1 || list.Keys[0].Prefix != s.keyB[:8] {
		t.Fatalf("globex's keys: %d %+v", code, list)
	}
	for _, id := range []string{issued.ID, "not-a-uuid", "01a2a000-0000-7000-8000-000000000000"} {
		var e apiError
		if code := s.call(t, s.keyB, "DELETE", "/api/v1/keys/"+id, nil, &e); code != 404 || e.Error.Code != "not_found" {
			t.Fatalf("globex revokes %s: %d %+v", id, code, e)
		}
	}
	if code := s.call(t, issued.Key, "GET", "/api/v1/contacts", nil, nil); code != 200 {
		t.Fatalf("the key survives another account's revoke: %d", code)
	}

	// Revoked: refused on the very next request; revoking again is 204.
	for range 2 {
		if code := s.call(t, s.keyA, "DELETE", "/api/v1/keys/"+issued.ID, nil, nil); code != 204 {
			t.Fatalf("revoke: %d", code)
		}
	}
	if code := s.call(t, issued.Key, "GET", "/api/v1/contacts", nil, nil); code != 401 {
		t.Fatalf("a revoked key's next request: %d, want 401", code)
	}
	if code := s.call(t, s.keyA, "GET", "/api/v1/keys", nil, &list); code != 200 || list.Keys[1].RevokedAt == nil {
		t.Fatalf("the list says it is revoked: %d %+v", code, list)
	}

	// A key may revoke itself, but never the account's last one.
	if code := s.call(t, noBody.Key, "DELETE", "/api/v1/keys/"+noBody.ID, nil, nil); code != 204 {
		t.Fatalf("a key revokes itself: %d", code)
	}
	if code := s.call(t, noBody.Key, "GET", "/api/v1/keys", nil, nil); code != 401 {
		t.Fatalf("and is refused next: %d", code)
	}
	var e apiError
	if code := s.call(t, s.keyA, "DELETE", "/api/v1/keys/"+ownID, nil, &e); code != 409 || e.Error.Code != "last_key" {
		t.Fatalf("the last key: %d %+v", code, e)
	}
	if code := s.call(t, s.keyA, "GET", "/api/v1/keys", nil, nil); code != 200 {
		t.Fatalf("the last key still works: %d", code)
	}
	if code := s.call(t, "", "GET", "/api/v1/keys", nil, nil); code != 401 {
		t.Fatalf("no key: %d", code)
	}
}
