package media

import (
	"net/http"
	"strings"
)

// SniffMIME is the file's type from its first bytes, the declared type
// only when sniffing says no more than "some bytes" (an audio codec the
// sniffer does not know) or names only the container: every voice note is
// an Ogg file, which the sniffer calls application/ogg, a type neither the
// transcription providers (they go by the name's extension, given from the
// type) nor every player take as audio; it is the audio/ogg it was declared.
func SniffMIME(head []byte, declared, header string) string {
	sniffed := http.DetectContentType(head)
	if sniffed == "application/ogg" {
		for _, d := range []string{declared, header} {
			if mt, _, _ := strings.Cut(strings.ToLower(d), ";"); strings.HasPrefix(strings.TrimSpace(mt), "audio/") || strings.HasPrefix(strings.TrimSpace(mt), "video/") {
				return strings.TrimSpace(mt)
			}
		}
		return "audio/ogg" // an Ogg declared as nothing better is speech, as customers send it
	}
	if sniffed != "application/octet-stream" && !strings.HasPrefix(sniffed, "text/plain") {
		return sniffed
	}
	for _, d := range []string{declared, header} {
		if mt, _, _ := strings.Cut(d, ";"); strings.TrimSpace(mt) != "" {
			return strings.TrimSpace(mt)
		}
	}
	return sniffed
}
