package channels

import (
	"encoding/json"
	"fmt"
)

// skip records an item of the delivery that could not be read, so the rest
// is still stored.
func (b *Batch) skip(externalID string, err error) {
	b.Skipped = append(b.Skipped, Skipped{ExternalID: externalID, Reason: err.Error()})
}

// rawID digs an id out of an item that could not be read whole, for the
// report of what was skipped; "" when it has none.
func rawID(raw json.RawMessage, key string) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return ""
	}
	var id any
	if json.Unmarshal(fields[key], &id) != nil {
		return ""
	}
	switch v := id.(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(int64(v))
	default:
		return ""
	}
}
