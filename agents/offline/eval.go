package offline

import (
	"hash/fnv"
	"sort"
)

// LabelledMessage is one line of a routing evaluation set
// (../shared/eval/routing-*.jsonl).
type LabelledMessage struct {
	ID         string `json:"id"`
	Text       string `json:"text"`
	Sector     string `json:"sector"`
	WantsHuman bool   `json:"wants_human"`
	Channel    string `json:"channel,omitempty"`
}

// LabelScore is precision, recall and F1 of one label.
type LabelScore struct {
	Support   int     `json:"support"`
	Predicted int     `json:"predicted"`
	Correct   int     `json:"correct"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// Report is what a prompt engineer compares between two versions.
type Report struct {
	Examples         int                       `json:"examples"`
	Folds            int                       `json:"folds"`
	SectorAccuracy   float64                   `json:"sector_accuracy"`
	SectorMacroF1    float64                   `json:"sector_macro_f1"`
	HandoffPrecision float64                   `json:"handoff_precision"`
	HandoffRecall    float64                   `json:"handoff_recall"`
	HandoffF1        float64                   `json:"handoff_f1"`
	Labels           map[string]LabelScore     `json:"labels"`
	Confusion        map[string]map[string]int `json:"confusion"` // gold -> predicted -> count
	Handoff          map[string]int            `json:"handoff_counts"`
}

// Router is the offline decision for one message: sector and handoff.
type Router struct {
	sector *Classifier
	human  *Classifier
}

// TrainRouter fits the sector and handoff classifiers to labelled messages.
func TrainRouter(rows []LabelledMessage, opts TrainOptions) *Router {
	sectors := make([]Example, len(rows))
	humans := make([]Example, len(rows))
	for i, r := range rows {
		sectors[i] = Example{Text: r.Text, Label: r.Sector}
		label := "no"
		if r.WantsHuman {
			label = "yes"
		}
		humans[i] = Example{Text: r.Text, Label: label}
	}
	return &Router{sector: Train(sectors, opts), human: Train(humans, opts)}
}

// Decision is the router's answer for a message.
type Decision struct {
	Sector     Prediction    `json:"sector"`
	WantsHuman bool          `json:"wants_human"`
	Reason     HandoffReason `json:"reason,omitempty"`
	HumanProb  float64       `json:"human_probability"`
}

// humanThreshold is the probability above which the handoff classifier alone
// hands off; the rules hand off regardless.
const humanThreshold = 0.5

// Route decides a message's sector and whether it needs a person.
func (r *Router) Route(text string) Decision {
	d := Decision{Sector: r.sector.Predict(text)}
	d.HumanProb = r.human.Predict(text).Probability["yes"]
	if reason, ok := HandoffRule(text); ok {
		d.WantsHuman, d.Reason = true, reason
	} else if d.HumanProb >= humanThreshold {
		d.WantsHuman, d.Reason = true, "classifier"
	}
	return d
}

// CrossValidate scores the router on rows it never trained on: each line is
// put in one of k folds (by a hash of its id), and each fold is scored by a
// router trained on the other folds plus always (the built-in examples,
// which are trained on and never scored).
func CrossValidate(rows []LabelledMessage, k int, opts TrainOptions, always []LabelledMessage) Report {
	if k < 2 {
		k = 5
	}
	fold := func(id string) int {
		h := fnv.New32a()
		_, _ = h.Write([]byte(id))
		return int(h.Sum32() % uint32(k))
	}
	golds := make([]string, 0, len(rows))
	preds := make([]string, 0, len(rows))
	var tp, fp, fn, tn int
	for f := range k {
		train := append([]LabelledMessage(nil), always...)
		var test []LabelledMessage
		for _, r := range rows {
			if fold(r.ID) == f {
				test = append(test, r)
			} else {
				train = append(train, r)
			}
		}
		if len(test) == 0 || len(train) == 0 {
			continue
		}
		router := TrainRouter(train, opts)
		for _, r := range test {
			d := router.Route(r.Text)
			golds = append(golds, r.Sector)
			preds = append(preds, d.Sector.Label)
			switch {
			case d.WantsHuman && r.WantsHuman:
				tp++
			case d.WantsHuman:
				fp++
			case r.WantsHuman:
				fn++
			default:
				tn++
			}
		}
	}
	rep := Score(golds, preds)
	rep.Folds = k
	rep.HandoffPrecision, rep.HandoffRecall, rep.HandoffF1 = prf(tp, fp, fn)
	rep.Handoff = map[string]int{"true_positive": tp, "false_positive": fp, "false_negative": fn, "true_negative": tn}
	return rep
}

// Score computes accuracy, macro-F1, per-label scores and the confusion matrix.
func Score(golds, preds []string) Report {
	rep := Report{Examples: len(golds), Labels: map[string]LabelScore{}, Confusion: map[string]map[string]int{}}
	correct := 0
	for i := range golds {
		g, p := golds[i], preds[i]
		if rep.Confusion[g] == nil {
			rep.Confusion[g] = map[string]int{}
		}
		rep.Confusion[g][p]++
		ls := rep.Labels[g]
		ls.Support++
		if g == p {
			ls.Correct++
			correct++
		}
		rep.Labels[g] = ls
		lp := rep.Labels[p]
		lp.Predicted++
		rep.Labels[p] = lp
	}
	if len(golds) > 0 {
		rep.SectorAccuracy = float64(correct) / float64(len(golds))
	}
	var sumF1 float64
	var n int
	keys := make([]string, 0, len(rep.Labels))
	for k := range rep.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ls := rep.Labels[k]
		ls.Precision, ls.Recall, ls.F1 = prf(ls.Correct, ls.Predicted-ls.Correct, ls.Support-ls.Correct)
		rep.Labels[k] = ls
		if ls.Support > 0 {
			sumF1 += ls.F1
			n++
		}
	}
	if n > 0 {
		rep.SectorMacroF1 = sumF1 / float64(n)
	}
	return rep
}

func prf(tp, fp, fn int) (float64, float64, float64) {
	var p, r, f float64
	if tp+fp > 0 {
		p = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		r = float64(tp) / float64(tp+fn)
	}
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return p, r, f
}
