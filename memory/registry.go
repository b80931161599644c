package memory

// FieldInfo is one structured field as every part of Atende shows and asks
// for it: the one registry instead of a map of labels in the inbox, another
// of questions in the agents, another of card words in the handoff.
type FieldInfo struct {
	Key string
	// Label is how the inbox shows it ("Pedido").
	Label string
	// Fact is its word in a sentence of the handoff card ("pedido"); empty:
	// not among the card's facts.
	Fact string
	// Question is how the agent asks the customer for it ("o número do
	// pedido ou do protocolo"); empty: asked by its key.
	Question string
	// Editable fields are in the inbox's panel.
	Editable bool
	// AgentSets fields may be saved by the LLM's update_fields tool
	// (identifiers are linked as identities instead).
	AgentSets bool
}

// FieldOrderNumber is the order or protocol number a customer gives.
const FieldOrderNumber = "order_number"

// fieldRegistry is in the order the inbox and the card list fields.
var fieldRegistry = []FieldInfo{
	{Key: FieldName, Label: "Nome", Fact: "nome", Question: "seu nome", Editable: true, AgentSets: true},
	{Key: FieldEmail, Label: "E-mail", Fact: "e-mail", Question: "seu e-mail", Editable: true},
	{Key: FieldPhone, Label: "Telefone", Fact: "telefone", Question: "um telefone com DDD", Editable: true},
	{Key: FieldCPF, Label: "CPF", Fact: "CPF", Question: "o CPF do titular", Editable: true},
	{Key: FieldOrderNumber, Label: "Pedido", Fact: "pedido", Question: "o número do pedido ou do protocolo", Editable: true, AgentSets: true},
	{Key: FieldNeed, Label: "Necessidade", Fact: "necessidade", Editable: true, AgentSets: true},
	{Key: FieldIntent, Label: "Intenção", Editable: true, AgentSets: true},
	{Key: FieldProductInterest, Label: "Interesse", Fact: "interesse", Question: "qual produto ou plano te interessa", Editable: true, AgentSets: true},
	{Key: FieldAdReferral, Label: "Anúncio de origem", Fact: "veio pelo anúncio"},
	{Key: FieldOrigin, Label: "Origem"},
	{Key: FieldStage, Label: "Etapa"},
	{Key: FieldLastAction, Label: "Última ação"},
	{Key: FieldClaimedEmail, Label: "E-mail informado (não verificado)"},
	{Key: FieldClaimedPhone, Label: "Telefone informado (não verificado)"},
	{Key: FieldClaimedCPF, Label: "CPF informado (não verificado)"},
}

// Registry lists the fields, in display order (a copy: callers may not
// change it).
func Registry() []FieldInfo { return append([]FieldInfo(nil), fieldRegistry...) }

// Field is the registry entry of key, and whether it has one.
func Field(key string) (FieldInfo, bool) {
	for _, f := range fieldRegistry {
		if f.Key == key {
			return f, true
		}
	}
	return FieldInfo{}, false
}
