package offline

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Example is a labelled message the classifier learns from.
type Example struct {
	Text  string
	Label string
}

// Classifier is a multinomial logistic regression over hashed text features,
// trained with AdaGrad. Training is deterministic: the same examples give the
// same model.
type Classifier struct {
	labels  []string
	weights [][]float32 // per label, featureDims weights
}

// TrainOptions tune training; the zero value gives the defaults.
type TrainOptions struct {
	Epochs       int     // passes over the examples (default 8: on the built-in corpus more passes only fit it closer)
	LearningRate float64 // AdaGrad step (default 0.2, chosen by cross-validation on the dev sets)
	L2           float64 // weight decay on touched weights (default 1e-6)
	Seed         uint64  // shuffle seed (default 1)
}

func (o TrainOptions) withDefaults() TrainOptions {
	if o.Epochs == 0 {
		o.Epochs = 8
	}
	if o.LearningRate == 0 {
		o.LearningRate = 0.2
	}
	if o.L2 == 0 {
		o.L2 = 1e-6
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o
}

// Train fits a classifier to the examples.
func Train(examples []Example, opts TrainOptions) *Classifier {
	feats := make([][]feature, len(examples))
	for i, e := range examples {
		feats[i] = features(e.Text)
	}
	return trainOn(examples, feats, opts)
}

// trainOn fits a classifier to examples whose features are computed (the
// router's two classifiers share them).
func trainOn(examples []Example, feats [][]feature, opts TrainOptions) *Classifier {
	opts = opts.withDefaults()
	labelIndex := map[string]int{}
	var labels []string
	for _, e := range examples {
		if _, ok := labelIndex[e.Label]; !ok {
			labelIndex[e.Label] = len(labels)
			labels = append(labels, e.Label)
		}
	}
	sort.Strings(labels)
	for i, l := range labels {
		labelIndex[l] = i
	}
	c := &Classifier{labels: labels, weights: make([][]float32, len(labels))}
	grad2 := make([][]float32, len(labels))
	for i := range labels {
		c.weights[i] = make([]float32, featureDims)
		grad2[i] = make([]float32, featureDims)
	}
	order := make([]int, len(examples))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x0ff1ce))
	probs := make([]float64, len(labels))
	for range opts.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, n := range order {
			x := feats[n]
			c.softmax(x, probs)
			gold := labelIndex[examples[n].Label]
			for k := range labels {
				g := probs[k]
				if k == gold {
					g--
				}
				w, g2 := c.weights[k], grad2[k]
				for _, f := range x {
					grad := g*f.value + opts.L2*float64(w[f.index])
					g2[f.index] += float32(grad * grad)
					w[f.index] -= float32(opts.LearningRate * grad / (math.Sqrt(float64(g2[f.index])) + 1e-8))
				}
			}
		}
	}
	return c
}

// softmax writes the label probabilities of features x into probs.
func (c *Classifier) softmax(x []feature, probs []float64) {
	max := math.Inf(-1)
	for k := range c.labels {
		var s float64
		for _, f := range x {
			s += float64(c.weights[k][f.index]) * f.value
		}
		probs[k] = s
		if s > max {
			max = s
		}
	}
	var sum float64
	for k := range probs {
		probs[k] = math.Exp(probs[k] - max)
		sum += probs[k]
	}
	for k := range probs {
		probs[k] /= sum
	}
}

// Prediction is the most likely label and every label's probability.
type Prediction struct {
	Label       string             `json:"label"`
	Confidence  float64            `json:"confidence"`
	Probability map[string]float64 `json:"probability"`
}

// Predict classifies a message.
func (c *Classifier) Predict(text string) Prediction {
	probs := make([]float64, len(c.labels))
	c.softmax(features(text), probs)
	p := Prediction{Probability: make(map[string]float64, len(c.labels))}
	for k, l := range c.labels {
		p.Probability[l] = probs[k]
		if probs[k] > p.Confidence {
			p.Label, p.Confidence = l, probs[k]
		}
	}
	return p
}

// Labels are the labels the classifier knows, sorted.
func (c *Classifier) Labels() []string { return append([]string(nil), c.labels...) }
