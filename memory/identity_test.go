package memory

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeIdentity(t *testing.T) {
	tests := []struct {
		kind    IdentityKind
		in      string
		want    Identity
		wantErr string
	}{
		{KindWhatsApp, "551187654321", Identity{KindPhone, "+5511987654321"}, ""},
		{KindWhatsApp, "5511987654321", Identity{KindPhone, "+5511987654321"}, ""},
		{KindPhone, "+55 (31) 8877-6655", Identity{KindPhone, "+5531988776655"}, ""},
		{KindPhone, "(11) 98765-4321", Identity{KindPhone, "+5511987654321"}, ""},
		{KindPhone, "11 4002-8922", Identity{KindPhone, "+551140028922"}, ""},     // landline keeps 8 digits
		{KindPhone, "(51) 99812-3344", Identity{KindPhone, "+5551998123344"}, ""}, // a DDD that is also a country code (Peru) stays Brazilian
		{KindPhone, "+1 415 555 2671", Identity{KindPhone, "+14155552671"}, ""},
		{KindPhone, "12", Identity{}, "8 to 15 digits"},
		{KindPhone, "call me", Identity{}, "only digits"},
		{KindEmail, "  Maria.Silva@Exemplo.COM.br ", Identity{KindEmail, "maria.silva@exemplo.com.br"}, ""},
		{KindEmail, "maria@", Identity{}, "not an e-mail"},
		{KindEmail, "maria@localhost", Identity{}, "not an e-mail"},
		{KindCPF, "391.781.645-83", Identity{KindCPF, "39178164583"}, ""},
		{KindCPF, "39178165483", Identity{}, "check digits"},
		{KindCPF, "111.111.111-11", Identity{}, "repeated digit"},
		{KindCPF, "1234", Identity{}, "11 digits"},
		{KindInstagram, "17841402938475610", Identity{KindInstagram, "17841402938475610"}, ""},
		{KindTelegram, " 123456789 ", Identity{KindTelegram, "123456789"}, ""},
		{"fax", "123", Identity{}, "unknown kind"},
		{KindWebchat, "", Identity{}, "empty"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+tt.in, func(t *testing.T) {
			got, err := NormalizeIdentity(tt.kind, tt.in)
			if tt.wantErr != "" {
				var ie *InvalidIdentifierError
				if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidIdentifier) {
					t.Fatalf("want invalid identifier error, got %v", err)
				}
				if !strings.Contains(ie.Reason, tt.wantErr) {
					t.Fatalf("reason %q does not say %q", ie.Reason, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseIdentity(t *testing.T) {
	got, err := ParseIdentity("whatsapp:5511987654321")
	if err != nil || got.String() != "phone:+5511987654321" {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := ParseIdentity("5511987654321"); !errors.Is(err, ErrInvalidIdentifier) {
		t.Fatalf("a value without a kind must be refused, got %v", err)
	}
}
