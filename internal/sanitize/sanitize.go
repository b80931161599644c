// Package sanitize makes text that arrived from outside storable in
// PostgreSQL: text and jsonb refuse the NUL character (a raw 0x00 byte, or a
// \u0000 escape in JSON) and bytes that are not UTF-8, and one such byte in a
// customer's message must not make a platform's webhook fail forever.
package sanitize

import (
	"reflect"
	"strings"
	"unicode/utf8"
)

// Replacement stands in for bytes that are not UTF-8.
const Replacement = "\uFFFD"

// Text returns s without NUL characters and with every run of bytes that are
// not UTF-8 replaced by U+FFFD. Valid text is returned as it is.
func Text(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, Replacement), "\x00", "")
}

// maxDepth bounds the walk of Strings: values built from a payload are
// shallow, and a cyclic value must not loop forever.
const maxDepth = 32

// Strings applies Text to every exported string reachable from ptr, a
// pointer to a struct, slice or map: fields, elements, pointed-to values,
// map keys and values, strings held in interfaces. Unexported fields (such
// as a time.Time's) are left alone.
func Strings(ptr any) {
	walk(reflect.ValueOf(ptr), 0)
}

func walk(v reflect.Value, depth int) {
	if depth > maxDepth || !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			if clean := Text(v.String()); clean != v.String() {
				v.SetString(clean)
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			walk(v.Elem(), depth+1)
		}
	case reflect.Interface:
		if v.IsNil() || !v.CanSet() {
			return
		}
		// What an interface holds is not addressable: clean a copy and put it back.
		held := v.Elem()
		c := reflect.New(held.Type()).Elem()
		c.Set(held)
		walk(c, depth+1)
		v.Set(c)
	case reflect.Struct:
		t := v.Type()
		for i := range v.NumField() {
			if t.Field(i).IsExported() {
				walk(v.Field(i), depth+1)
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return // bytes, not text
		}
		for i := range v.Len() {
			walk(v.Index(i), depth+1)
		}
	case reflect.Map:
		walkMap(v, depth)
	}
}

// walkMap cleans a map's keys and values; neither is addressable, so each
// entry is cleaned as a copy and stored again (under its cleaned key).
func walkMap(v reflect.Value, depth int) {
	if v.IsNil() {
		return
	}
	t := v.Type()
	for _, k := range v.MapKeys() {
		val := reflect.New(t.Elem()).Elem()
		val.Set(v.MapIndex(k))
		walk(val, depth+1)
		key := reflect.New(t.Key()).Elem()
		key.Set(k)
		walk(key, depth+1)
		if !key.Equal(k) {
			v.SetMapIndex(k, reflect.Value{})
		}
		v.SetMapIndex(key, val)
	}
}
