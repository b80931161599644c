package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// mapFigures are the figures that are maps; CSV flattens each into a column
// per key ("handoffs_by_reason.asked_for_person").
var mapFigures = []string{"csat_distribution", "handoffs_by_reason", "transfers_by_route"}

// WriteCSV writes the report as CSV: a header row of the figure names (as
// in the JSON), one row per group and a last row for the total (key
// "total"). Maps are flattened into a column per key seen in any row; a null
// figure is an empty cell.
func WriteCSV(w io.Writer, r Report) error {
	rows := append(append([]Figures{}, r.Groups...), r.Total)
	flat := make([]map[string]any, len(rows))
	var scalars []string
	mapKeys := map[string]map[string]bool{}
	for i, f := range rows {
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if i == 0 {
			scalars = jsonOrder(b)
		}
		m := map[string]any{}
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		flat[i] = m
		for _, name := range mapFigures {
			if mapKeys[name] == nil {
				mapKeys[name] = map[string]bool{}
			}
			for k := range m[name].(map[string]any) {
				mapKeys[name][k] = true
			}
		}
	}
	var header []string
	for _, name := range scalars {
		if _, isMap := mapKeys[name]; isMap {
			keys := make([]string, 0, len(mapKeys[name]))
			for k := range mapKeys[name] {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				header = append(header, name+"."+k)
			}
			continue
		}
		header = append(header, name)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, m := range flat {
		rec := make([]string, len(header))
		for i, col := range header {
			v, ok := m[col]
			for _, name := range mapFigures {
				if len(col) > len(name) && col[:len(name)+1] == name+"." {
					v, ok = m[name].(map[string]any)[col[len(name)+1:]]
					if !ok {
						v, ok = 0.0, true
					}
				}
			}
			rec[i] = cell(v, ok)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func cell(v any, ok bool) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	default:
		if !ok {
			return ""
		}
		return fmt.Sprint(x)
	}
}

// jsonOrder is the order of an object's keys as encoding/json wrote them
// (the struct's field order).
func jsonOrder(b []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	_, _ = dec.Token() // {
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}
