package channels

import "testing"

// What the attendant reads for a message without words: prices the
// Brazilian way, a cart item by item, a place with its map link.
func TestDescribeWordlessMessages(t *testing.T) {
	tests := []struct {
		in   Inbound
		want string
	}{
		{Inbound{MessageContext: MessageContext{Order: &Order{CatalogID: "cat1", Items: []OrderItem{{ProductID: "TENIS-38", Quantity: 2, Price: 79.9, Currency: "BRL"},
			{ProductID: "MEIA", Quantity: 1, Price: 1250, Currency: "USD"}}}}},
			"Pedido pelo catálogo cat1: 2× TENIS-38 (R$ 79,90); 1× MEIA (USD 1.250,00)"},
		{Inbound{MessageContext: MessageContext{Location: &Location{Latitude: -23.5, Longitude: -46.6, Name: "Loja Centro", URL: "https://maps.example/x"}}},
			"Localização: Loja Centro (-23.500000, -46.600000) https://maps.example/x"},
		{Inbound{Type: "sticker"}, "[sticker]"},
	}
	for _, tt := range tests {
		if got := describe(tt.in); got != tt.want {
			t.Errorf("describe = %q, want %q", got, tt.want)
		}
	}
}
