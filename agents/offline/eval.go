package offline

import (
	"hash/fnv"
	"sort"

	"github.com/atende/atende/memory"
)

// LabelledMessage is one line of a routing evaluation set
// (../shared/eval/routing-*.jsonl) or of the built-in examples.
type LabelledMessage struct {
	ID           string `json:"id"`
	Text         string `json:"text"`
	Sector       string `json:"sector"`
	WantsHuman   bool   `json:"wants_human"`
	Channel      string `json:"channel,omitempty"`
	SourceIntent string `json:"source_intent,omitempty"`
}

// HasTopic reports whether a gold label names a business sector. The sets
// label messages with no business topic "none" (pt) or "human" (a bare
// request for a person, en); the eval protocol leaves those out of sector
// scores, and predicting them for a topical line counts as wrong.
func HasTopic(label string) bool {
	return label != "" && label != "none" && label != "human"
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

// Rate is a count out of a total, for breakdowns.
type Rate struct {
	Count int     `json:"count"`
	Of    int     `json:"of"`
	Rate  float64 `json:"rate"`
}

func (r *Rate) add(hit bool) {
	r.Of++
	if hit {
		r.Count++
	}
	r.Rate = float64(r.Count) / float64(r.Of)
}

// Report is what a prompt engineer compares between two versions. Sector
// figures follow the sets' protocol: only lines with a business sector are
// scored, macro-F1 is the mean over those sectors, and a prediction of no
// sector counts as wrong. Handoff figures use every line.
type Report struct {
	Examples         int                       `json:"examples"`
	Folds            int                       `json:"folds"`
	SectorLines      int                       `json:"sector_lines"`
	SectorAccuracy   float64                   `json:"sector_accuracy"`
	SectorMacroF1    float64                   `json:"sector_macro_f1"`
	Labels           map[string]LabelScore     `json:"labels"`
	Confusion        map[string]map[string]int `json:"confusion"` // gold -> predicted -> count
	NoTopicDeclined  Rate                      `json:"no_topic_declined"`
	HandoffPrecision float64                   `json:"handoff_precision"`
	HandoffRecall    float64                   `json:"handoff_recall"`
	HandoffF1        float64                   `json:"handoff_f1"`
	Handoff          map[string]int            `json:"handoff_counts"`
	// HandoffFalsePositives is the rate of handoffs on lines that did not
	// want one, by "sector:X" and "channel:Y".
	HandoffFalsePositives map[string]Rate `json:"handoff_false_positives"`
	// IntentAccuracy is sector accuracy by source_intent (sets that have one).
	IntentAccuracy map[string]Rate `json:"intent_accuracy,omitempty"`
	// HandoffRecallBy is handoff recall by source_intent or, without one, by
	// gold sector: explicit requests and escalations apart.
	HandoffRecallBy map[string]Rate `json:"handoff_recall_by"`
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
	feats := make([][]feature, len(rows))
	for i, r := range rows {
		feats[i] = features(r.Text)
	}
	return &Router{sector: trainOn(sectors, feats, opts), human: trainOn(humans, feats, opts)}
}

// Routing is the router's reading of one message: sector and whether it wants a
// person. It is not the turn's Decision (agents.Decision), which also says
// what is answered and done.
type Routing struct {
	Sector     Prediction    `json:"sector"`
	WantsHuman bool          `json:"wants_human"`
	Reason     HandoffReason `json:"reason,omitempty"`
	HumanProb  float64       `json:"human_probability"`
}

// humanThreshold is the probability above which the handoff classifier alone
// hands off; the rules hand off regardless. Trained on the corpus, the
// classifier is the rules' safety net for wordings they lack ("how to taok
// to an agent" at 0.9), and at 0.5 it handed off plain disputes ("cancelei e
// continuaram cobrando", 0.52–0.64; "alguém sabe se tem jogo hoje?", 0.80)
// the rules rightly let through.
const humanThreshold = 0.85

// Route decides a message's sector and whether it needs a person.
func (r *Router) Route(text string) Routing {
	d := Routing{Sector: r.sector.Predict(text)}
	d.HumanProb = r.human.Predict(text).Probability["yes"]
	if reason, ok := HandoffRule(text); ok {
		d.WantsHuman, d.Reason = true, reason
	} else if d.HumanProb >= humanThreshold {
		d.WantsHuman, d.Reason = true, "classifier"
	}
	return d
}

// Sectors are the labels the router can pick, sorted.
func (r *Router) Sectors() []string { return r.sector.Labels() }

// prediction is what a router said of one scored line.
type prediction struct {
	row     LabelledMessage
	sector  string
	handoff bool
}

// CrossValidate scores the router on rows it never trained on: each line is
// put in one of k folds (by a hash of its id), and each fold is scored by a
// router trained on the other folds plus always (the built-in examples,
// which are trained on and never scored; those that are a near copy of a
// scored line are left out of that fold's training).
func CrossValidate(rows []LabelledMessage, k int, opts TrainOptions, always []LabelledMessage) Report {
	if k < 2 {
		k = 5
	}
	fold := func(id string) int {
		h := fnv.New32a()
		_, _ = h.Write([]byte(id))
		return int(h.Sum32() % uint32(k))
	}
	var preds []prediction
	for f := range k {
		var train, test []LabelledMessage
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
		train = append(train, withoutNearCopies(always, test)...)
		router := TrainRouter(train, opts)
		for _, r := range test {
			d := router.Route(r.Text)
			preds = append(preds, prediction{row: r, sector: d.Sector.Label, handoff: d.WantsHuman})
		}
	}
	return scorePredictions(preds, k)
}

// scorePredictions is the report of scored lines (folds: 0 when shipped).
func scorePredictions(preds []prediction, k int) Report {
	golds := make([]string, len(preds))
	sectors := make([]string, len(preds))
	for i, p := range preds {
		golds[i], sectors[i] = p.row.Sector, p.sector
	}
	rep := Score(golds, sectors)
	rep.Folds = k
	scoreHandoff(&rep, preds)
	rep.IntentAccuracy = map[string]Rate{}
	for _, p := range preds {
		if p.row.SourceIntent != "" && HasTopic(p.row.Sector) {
			r := rep.IntentAccuracy[p.row.SourceIntent]
			r.add(p.sector == p.row.Sector)
			rep.IntentAccuracy[p.row.SourceIntent] = r
		}
	}
	if len(rep.IntentAccuracy) == 0 {
		rep.IntentAccuracy = nil
	}
	return rep
}

// Shipped scores the router exactly as a business gets it on day one:
// trained on shipped (the built-in examples) alone, never on rows, and
// scored on every row. Cross-validation says how well the method learns a
// set; this says how well what Atende ships handles wording nobody here saw.
func Shipped(rows []LabelledMessage, opts TrainOptions, shipped []LabelledMessage) Report {
	router := TrainRouter(shipped, opts)
	preds := make([]prediction, 0, len(rows))
	for _, r := range rows {
		d := router.Route(r.Text)
		preds = append(preds, prediction{row: r, sector: d.Sector.Label, handoff: d.WantsHuman})
	}
	return scorePredictions(preds, 0)
}

// nearCopy is the word-set Jaccard similarity from which two messages count
// as the same line (the threshold the eval sets were split with).
const nearCopy = 0.8

// withoutNearCopies drops the examples that are the same line as, or a near
// copy of, a line about to be scored: "oi" in the built-in examples must not
// score "oi" in an eval set as a line the model never saw.
func withoutNearCopies(examples, scored []LabelledMessage) []LabelledMessage {
	sets := make([]map[string]bool, len(scored))
	for i, r := range scored {
		sets[i] = wordSet(r.Text)
	}
	out := make([]LabelledMessage, 0, len(examples))
	for _, e := range examples {
		ws := wordSet(e.Text)
		copied := false
		for _, s := range sets {
			if jaccard(ws, s) >= nearCopy {
				copied = true
				break
			}
		}
		if !copied {
			out = append(out, e)
		}
	}
	return out
}

func wordSet(text string) map[string]bool {
	set := map[string]bool{}
	for _, w := range memory.Words(text) {
		set[w] = true
	}
	return set
}

func jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	inter := 0
	for w := range a {
		if b[w] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

func scoreHandoff(rep *Report, preds []prediction) {
	var tp, fp, fn, tn int
	rep.HandoffFalsePositives = map[string]Rate{}
	rep.HandoffRecallBy = map[string]Rate{}
	for _, p := range preds {
		switch {
		case p.handoff && p.row.WantsHuman:
			tp++
		case p.handoff:
			fp++
		case p.row.WantsHuman:
			fn++
		default:
			tn++
		}
		if p.row.WantsHuman {
			key := p.row.SourceIntent
			if key == "" {
				key = p.row.Sector
			}
			r := rep.HandoffRecallBy[key]
			r.add(p.handoff)
			rep.HandoffRecallBy[key] = r
			continue
		}
		groups := []string{"sector:" + p.row.Sector}
		if p.row.Channel != "" {
			groups = append(groups, "channel:"+p.row.Channel)
		}
		for _, g := range groups {
			r := rep.HandoffFalsePositives[g]
			r.add(p.handoff)
			rep.HandoffFalsePositives[g] = r
		}
	}
	rep.HandoffPrecision, rep.HandoffRecall, rep.HandoffF1 = prf(tp, fp, fn)
	rep.Handoff = map[string]int{"true_positive": tp, "false_positive": fp, "false_negative": fn, "true_negative": tn}
}

// Score computes the sector figures of the protocol: accuracy and macro-F1
// over the lines whose gold label is a business sector (HasTopic), per-sector
// scores, the confusion matrix of those lines, and how often lines with no
// topic were left without a sector.
func Score(golds, preds []string) Report {
	rep := Report{Examples: len(golds), Labels: map[string]LabelScore{}, Confusion: map[string]map[string]int{}}
	correct := 0
	for i := range golds {
		g, p := golds[i], preds[i]
		if !HasTopic(g) {
			rep.NoTopicDeclined.add(!HasTopic(p))
			continue
		}
		rep.SectorLines++
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
		if HasTopic(p) {
			lp := rep.Labels[p]
			lp.Predicted++
			rep.Labels[p] = lp
		}
	}
	if rep.SectorLines > 0 {
		rep.SectorAccuracy = float64(correct) / float64(rep.SectorLines)
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
