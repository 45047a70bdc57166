package optim

import (
	"fmt"
	"strings"
)

// Rule puts the parameters whose names start with one of Prefixes into a group with its own
// learning-rate multiplier. Rules are tried in order and the first match wins; a rule with no
// Prefixes matches every name (put it last, as a catch-all).
type Rule struct {
	Name     string   // the group's name in reports, e.g. "head" or "encoder"
	Prefixes []string // name prefixes, e.g. "head." (empty: every name)
	LRMult   float64  // learning rate = schedule LR × LRMult; must be > 0
	NoDecay  bool     // no weight decay for any parameter of the group
}

// HeadEncoderRules is the usual fine-tuning split: parameters under one of headPrefixes train
// at the schedule's LR, all others (the encoder) at LR × encoderLRMult — the
// `--encoder-lr-mult 0.01` of `ssl4dp train seg`.
func HeadEncoderRules(headPrefixes []string, encoderLRMult float64) []Rule {
	return []Rule{
		{Name: "head", Prefixes: headPrefixes, LRMult: 1},
		{Name: "encoder", LRMult: encoderLRMult},
	}
}

// defaultRule takes the parameters that no rule matches.
var defaultRule = Rule{Name: "default", LRMult: 1}

func (r *Rule) matches(name string) bool {
	if len(r.Prefixes) == 0 {
		return true
	}
	for _, p := range r.Prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func checkRules(rules []Rule) error {
	seen := map[string]bool{}
	for i, r := range rules {
		if r.Name == "" {
			return fmt.Errorf("optim: rule %d has no name", i)
		}
		if seen[r.Name] {
			return fmt.Errorf("optim: rule name %q used twice", r.Name)
		}
		seen[r.Name] = true
		if !validFloat(r.LRMult) || r.LRMult == 0 {
			return fmt.Errorf("optim: rule %q: LR multiplier %v, want a finite number > 0 (to freeze parameters, leave them out of the optimizer)", r.Name, r.LRMult)
		}
		for _, p := range r.Prefixes {
			if p == "" {
				return fmt.Errorf("optim: rule %q: empty prefix (leave Prefixes empty to match every name)", r.Name)
			}
		}
	}
	return nil
}

// Group describes one parameter group as built by New, for logs and reports.
type Group struct {
	Name       string
	LRMult     float64
	Decayed    []string // parameter names that get weight decay
	NotDecayed []string // parameter names that do not (norms, biases, or a NoDecay group)
}

// String is a one-line summary, e.g. `encoder: lr×0.01, 159 params (53 with weight decay)`.
func (g Group) String() string {
	return fmt.Sprintf("%s: lr×%g, %d params (%d with weight decay)", g.Name, g.LRMult, len(g.Decayed)+len(g.NotDecayed), len(g.Decayed))
}
