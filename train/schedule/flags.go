package schedule

import (
	"fmt"
	"strconv"
	"strings"
)

// Flags are the learning-rate flags of the train commands; embed the struct in a kong
// command and call Build with the run's length. The defaults are mmseg's VOC fine-tuning
// recipe (SGD lr 0.01, poly 0.9 to 1e-4).
type Flags struct {
	LR          float64   `name:"lr" default:"0.01" help:"Base learning rate (for the head; the encoder's is scaled by --encoder-lr-mult where a command has it)."`
	Schedule    string    `name:"schedule" default:"poly" help:"Learning-rate schedule: poly, cosine, step, linear or constant."`
	FinalLR     *float64  `name:"final-lr" help:"Learning rate at the last step, for poly, cosine and linear (default 0). Step ends at lr×gamma^milestones."`
	Power       float64   `name:"power" default:"0.9" help:"Exponent p of poly: (lr − final)·(1 − t/T)^p + final."`
	Milestones  []float64 `name:"milestones" default:"0.7,0.9" help:"Step: fractions of the run at which the LR is multiplied by --gamma."`
	Gamma       float64   `name:"gamma" default:"0.1" help:"Step: factor at each milestone."`
	Warmup      int       `name:"warmup" default:"0" help:"Steps of linear warm-up at the start of the run (0: none)."`
	WarmupStart float64   `name:"warmup-start" default:"0.001" help:"Warm-up: LR factor at the first step, rising linearly to 1."`
}

// Build turns the flags into a validated schedule for a run of total steps.
func (f Flags) Build(total int) (Schedule, error) {
	kind, err := ParseKind(f.Schedule)
	if err != nil {
		return Schedule{}, err
	}
	s := Schedule{Kind: kind, BaseLR: f.LR, Total: total, Warmup: f.Warmup}
	if f.Warmup > 0 {
		s.WarmupStart = f.WarmupStart
	}
	if f.FinalLR != nil {
		s.FinalLR = *f.FinalLR
	}
	switch kind {
	case Poly:
		s.Power = f.Power
	case Step:
		s.Milestones = append([]float64(nil), f.Milestones...)
		s.Gamma = f.Gamma
	case Constant:
		if f.FinalLR == nil {
			s.FinalLR = f.LR
		}
	}
	if err := s.Validate(); err != nil {
		return Schedule{}, err
	}
	return s, nil
}

// FromSaved takes the flags back from a run's saved schedule (config.json's "schedule"), so
// that `--resume --out RUN` alone continues with the schedule the run started with. set(name,
// apply) is the command's: it calls apply unless the flag was given on the command line, and
// a given flag keeps its value (the engine then refuses it if it may not change).
func (f *Flags) FromSaved(s Schedule, set func(name string, apply func())) {
	set("lr", func() { f.LR = s.BaseLR })
	set("schedule", func() { f.Schedule = string(s.Kind) })
	set("final-lr", func() { v := s.FinalLR; f.FinalLR = &v })
	set("power", func() { f.Power = s.Power })
	set("milestones", func() { f.Milestones = append([]float64(nil), s.Milestones...) })
	set("gamma", func() { f.Gamma = s.Gamma })
	set("warmup", func() { f.Warmup = s.Warmup })
	set("warmup-start", func() { f.WarmupStart = s.WarmupStart })
}

// WriteArgs writes the flags that decide the schedule into a command's resolved command line,
// add(name, value) for each (train.CommandLine.Add; this package cannot import train, so it
// formats its numbers itself, the same way): --lr and --schedule, --final-lr when it was
// given, --power for poly, --milestones and --gamma for step, and the warm-up when there is
// one. The flags a schedule does not read are left out, so the line says what the run did
// and, given again, does it again.
func (f Flags) WriteArgs(add func(name, value string)) {
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	add("lr", num(f.LR))
	add("schedule", f.Schedule)
	if f.FinalLR != nil {
		add("final-lr", num(*f.FinalLR))
	}
	switch k, _ := ParseKind(f.Schedule); k {
	case Poly:
		add("power", num(f.Power))
	case Step:
		ms := make([]string, len(f.Milestones))
		for i, m := range f.Milestones {
			ms[i] = num(m)
		}
		add("milestones", strings.Join(ms, ","))
		add("gamma", num(f.Gamma))
	}
	if f.Warmup > 0 {
		add("warmup", strconv.Itoa(f.Warmup))
		add("warmup-start", num(f.WarmupStart))
	}
}

// ParseKind reads a schedule name, case-insensitively, and suggests the nearest one when it is
// misspelt.
func ParseKind(name string) (Kind, error) {
	lower := strings.ToLower(strings.TrimSpace(name))
	for _, k := range Kinds {
		if lower == string(k) {
			return k, nil
		}
	}
	// Common aliases from other toolkits' names for the same schedules.
	switch lower {
	case "polynomial":
		return Poly, nil
	case "cos", "cosine_annealing", "cosineannealing":
		return Cosine, nil
	case "multistep", "multi-step":
		return Step, nil
	}
	known := make([]string, len(Kinds))
	best, bestDist := "", 3 // suggest only names within two edits
	for i, k := range Kinds {
		known[i] = string(k)
		if d := editDistance(lower, string(k)); d < bestDist {
			best, bestDist = string(k), d
		}
	}
	hint := ""
	if best != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", best)
	}
	return "", fmt.Errorf("schedule: unknown schedule %q%s; known: %s", name, hint, strings.Join(known, ", "))
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
