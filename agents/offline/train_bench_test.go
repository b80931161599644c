package offline

import (
	"fmt"
	"testing"
)

// BenchmarkTrainRouter is training on a corpus the size of the built-in one
// (about 6,000 sentences): what the first turn of an account waits for.
func BenchmarkTrainRouter(b *testing.B) {
	c, err := ParseCorpus(map[string]string{"b.pt.txt": benchCorpus()})
	if err != nil {
		b.Fatal(err)
	}
	rows := c.Generate()
	b.ReportMetric(float64(len(rows)), "sentences")
	for b.Loop() {
		TrainRouter(rows, TrainOptions{})
	}
}

func benchCorpus() string {
	s := "@global\npedido = #4821 | PED-77 | 99812\nvalor = R$ 89,90 | 120 reais\n@business loja: Loja\nproduto = o tênis | a bolsa | o vestido | a calça\n@templates sales x10\n"
	for i := range 150 {
		s += fmt.Sprintf("quanto custa {produto} modelo %d? tem em {azul|preto|verde} pra entregar em {Recife|Natal|Manaus}\n", i)
		s += fmt.Sprintf("{quero|queria} comprar {produto} %d, parcela em quantas vezes?\n", i)
	}
	s += "@templates support x10\n"
	for i := range 150 {
		s += fmt.Sprintf("{produto} do pedido {pedido} chegou {rasgado|errado|com defeito} lote %d, como troco?\n", i)
		s += fmt.Sprintf("não consigo entrar no app, erro %d {de novo|desde ontem}\n", i)
	}
	return s
}
