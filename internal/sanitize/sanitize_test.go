package sanitize

import (
	"testing"
	"time"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"Olá, tudo bem? 😅", "Olá, tudo bem? 😅"},
		{"a\x00b", "ab"},
		{"\x00\x00", ""},
		{"caf\xe9", "caf\uFFFD"},
		{"x\xff\xfey", "x\uFFFDy"},
		{"\x00\xc3", "\uFFFD"},
	} {
		if got := Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

type inner struct {
	Name  string
	List  []string
	Ptr   *string
	Any   any
	Map   map[string]any
	Bytes []byte
	At    time.Time
	priv  string
}

func TestStringsReachesEveryString(t *testing.T) {
	p := "p\x00"
	v := struct {
		Top    string
		Inner  inner
		Inners []inner
		Ptr    *inner
	}{
		Top: "t\x00",
		Inner: inner{Name: "n\x00", List: []string{"a\x00", "b\xff"}, Ptr: &p, Any: "i\x00",
			Map: map[string]any{"k\x00": "v\x00", "n": []any{"x\x00"}}, Bytes: []byte{0}, priv: "\x00"},
		Inners: []inner{{Name: "\x00m"}},
		Ptr:    &inner{Name: "q\x00"},
	}
	Strings(&v)
	check := func(name, s string) {
		t.Helper()
		if !utf8.ValidString(s) || Text(s) != s {
			t.Errorf("%s still has NUL or invalid UTF-8: %q", name, s)
		}
	}
	check("Top", v.Top)
	check("Inner.Name", v.Inner.Name)
	check("Inner.List[0]", v.Inner.List[0])
	check("Inner.List[1]", v.Inner.List[1])
	check("Inner.Ptr", *v.Inner.Ptr)
	check("Inner.Any", v.Inner.Any.(string))
	if v.Inner.Map["k"] != "v" {
		t.Errorf("map: %q", v.Inner.Map)
	}
	check("Inner.Map[n]", v.Inner.Map["n"].([]any)[0].(string))
	check("Inners[0].Name", v.Inners[0].Name)
	check("Ptr.Name", v.Ptr.Name)
	if v.Inner.Bytes[0] != 0 || v.Inner.priv != "\x00" {
		t.Error("bytes and unexported fields must be left alone")
	}
}

func TestStringsSurvivesACycle(t *testing.T) {
	type node struct {
		Name string
		Next *node
	}
	n := &node{Name: "a\x00"}
	n.Next = n
	Strings(n)
	if n.Name != "a" {
		t.Fatalf("name %q", n.Name)
	}
}
