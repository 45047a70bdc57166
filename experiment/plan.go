package experiment

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Plan is a grid resolved into the runs it needs, in the order they run: every pre-training
// stage once (rows that share a prefix of stages — "MoCo + PLR" and "MoCo + EDMoCo" both
// start with the MoCo v2 stage — share its run folder), and every cell.
type Plan struct {
	Grid    *Grid
	Stages  []*Stage // each once, in the order they are first needed
	Cells   []*Cell  // seeds, then rows, then heads, in grid order
	Probes  []*Probe // seeds, then rows, then [evaluate] probes, in grid order
	Skipped []Skipped
}

// Stage is one pre-training run folder.
type Stage struct {
	Key    string   // hash of everything that decides its weights (and its parent's key)
	Dir    string   // run folder, relative to the experiment folder
	Method string   // train pretext --method
	Seed   uint64   // --seed
	Args   []string // train pretext's flags, without --init and --out
	Parent *Stage   // the stage it continues from (its encoder.onnx), nil for a chain's first
	Init   string   // for a chain's first stage: the checkpoint it starts from ("": random)
	Rows   []string // the rows whose chains include it
}

// Cell is one fine-tuning run, its export and its evaluation.
type Cell struct {
	Key      string
	Dir      string // relative to the experiment folder: train/, model.onnx, eval.json, …
	Row      string
	Head     string
	Seed     uint64
	Args     []string // train seg's flags, without --init and --out
	Stages   []*Stage // the row's chain for this seed; fine-tuning loads the last one's output
	Init     string   // for a row without stages: the checkpoint fine-tuning loads ("": random)
	Transfer string   // encoder or decoder
}

// Skipped is a row left out of the plan, and why.
type Skipped struct {
	Row    string
	Reason string
}

// PlanOptions adjust a plan.
type PlanOptions struct {
	// Inits gives checkpoint files by row name, over the rows' init keys (the CLI's
	// --init ROW=PATH), so a shipped grid's supervised row needs no editing.
	Inits map[string]string
	// Getenv expands ${VAR} in data and init (nil: os.Getenv).
	Getenv func(string) string
}

// Plan resolves the grid: expands ${VAR}s, checks init files, and lays out the stages and
// cells with their folder keys.
func (g *Grid) Plan(o PlanOptions) (*Plan, error) {
	fail := func(format string, args ...any) error {
		return &GridError{File: g.Source, Msg: fmt.Sprintf(format, args...)}
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	for name := range o.Inits {
		if g.Row(name) == nil {
			return nil, fail("--init %s=…: no row is called %q", name, name)
		}
	}
	data, err := expand(g.Data, getenv)
	if err != nil {
		return nil, fail("data: %v", err)
	}
	p := &Plan{Grid: g}
	byKey := map[string]*Stage{}
	digests := map[string]string{} // init file → its content's hash
	for _, seed := range g.Seeds {
		for i := range g.Rows {
			r := &g.Rows[i]
			specs, init, err := g.chain(r)
			if err != nil {
				return nil, fail("%v", err)
			}
			initFile, skip, err := resolveInit(g, r, init, o.Inits, getenv)
			if err != nil {
				return nil, fail("%v", err)
			}
			specs, skip = supervisedStages(specs, initFile, skip)
			if skip != "" {
				if seed == g.Seeds[0] {
					p.Skipped = append(p.Skipped, Skipped{Row: r.Name, Reason: skip})
				}
				continue
			}
			origin := "random"
			if initFile != "" {
				d, ok := digests[initFile]
				if !ok {
					if d, err = fileDigest(initFile); err != nil {
						return nil, fail("row %q: init: %v", r.Name, err)
					}
					digests[initFile] = d
				}
				origin = "init " + d
			}
			var chain []*Stage
			var parent *Stage
			for _, sp := range specs {
				args := stageArgs(sp.Method, g.Pretrain, sp.Flags, g.pretrainData(sp.Flags), Flags{"seed": strconv.FormatUint(seed, 10)})
				if d, ok := flagValue(args, "data"); ok {
					exp, err := expand(d, getenv)
					if err != nil {
						return nil, fail("row %q stage %s: data: %v", r.Name, sp.Method, err)
					}
					args = setFlag(args, "data", exp)
				}
				from := origin
				if parent != nil {
					from = "stage " + parent.Key
				}
				key := hashKey("stage", from, strings.Join(args, "\n"))
				st, ok := byKey[key]
				if !ok {
					st = &Stage{Key: key, Dir: filepath.Join("stages", fmt.Sprintf("%s-s%d-%s", sp.Method, seed, key)),
						Method: sp.Method, Seed: seed, Args: args, Parent: parent}
					if parent == nil {
						st.Init = initFile
					}
					byKey[key] = st
					p.Stages = append(p.Stages, st)
				}
				if !slices.Contains(st.Rows, r.Name) {
					st.Rows = append(st.Rows, r.Name)
				}
				chain = append(chain, st)
				parent = st
			}
			for _, h := range g.Heads {
				args := argsFor(g.Finetune, h.Flags, r.Finetune, Flags{"data": data, "seed": strconv.FormatUint(seed, 10)})
				from := origin
				if parent != nil {
					from = "stage " + parent.Key
				}
				key := hashKey("cell", from, r.Transfer, strings.Join(args, "\n"))
				c := &Cell{Key: key, Row: r.Name, Head: h.Name, Seed: seed, Args: args, Stages: chain, Transfer: r.Transfer,
					Dir: filepath.Join("cells", slug(r.Name), slug(h.Name), fmt.Sprintf("s%d-%s", seed, key))}
				if len(chain) == 0 {
					c.Init = initFile
				}
				p.Cells = append(p.Cells, c)
			}
			if err := p.planProbes(r, seed, data, origin, chain, initFile); err != nil {
				return nil, fail("%v", err)
			}
		}
	}
	return p, nil
}

// resolveInit is a row's starting checkpoint: the --init override, else the grid's, ${VAR}
// expanded; skip says why the row cannot run (a checkpoint row without a file).
func resolveInit(g *Grid, r *Row, init *string, overrides map[string]string, getenv func(string) string) (file, skip string, err error) {
	// An override on the row or on the row its chain starts from.
	for cur := r; cur != nil; cur = g.Row(cur.From) {
		if f, ok := overrides[cur.Name]; ok {
			init = &f
		}
		if cur.From == "" {
			break
		}
	}
	if init == nil {
		return "", "", nil
	}
	f, err := expand(*init, getenv)
	if err != nil {
		return "", "", fmt.Errorf("row %q: init: %v", r.Name, err)
	}
	if strings.TrimSpace(f) == "" {
		return "", fmt.Sprintf("no checkpoint given: set init in the grid or pass --init '%s=FILE.onnx'", r.Name), nil
	}
	if _, err := os.Stat(f); err != nil {
		return "", "", fmt.Errorf("row %q: init: %v", r.Name, err)
	}
	return f, "", nil
}

// expand replaces ${VAR} and $VAR; an unset or empty variable is an error, so that a
// forgotten export does not quietly become an empty path.
func expand(s string, getenv func(string) string) (string, error) {
	var missing []string
	out := os.Expand(s, func(v string) string {
		val := getenv(v)
		if val == "" {
			missing = append(missing, "$"+v)
		}
		return val
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%q: %s is not set", s, strings.Join(missing, ", "))
	}
	return out, nil
}

func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashKey is the folder key of a run: ten hex digits of a SHA-256 over its parts.
func hashKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:10]
}

// slug makes a row or head name usable as a folder name: "MoCo + PLMoCo" → "moco-plmoco".
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) && r < 128 || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

// flagValue finds --name=value in args.
func flagValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// setFlag replaces --name=… in args.
func setFlag(args []string, name, value string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.HasPrefix(a, "--"+name+"=") {
			a = "--" + name + "=" + value
		}
		out[i] = a
	}
	return out
}

// StageOutput is the file a cell or a continuing stage loads from a finished stage.
func (s *Stage) Output(transfer string) string {
	if transfer == TransferDecoder {
		return filepath.Join(s.Dir, "decoder.onnx")
	}
	return filepath.Join(s.Dir, "encoder.onnx")
}

// Origin describes where a cell's encoder comes from, for messages.
func (c *Cell) Origin() string {
	switch {
	case len(c.Stages) > 0:
		names := make([]string, len(c.Stages))
		for i, s := range c.Stages {
			names[i] = s.Method
		}
		return strings.Join(names, " → ")
	case c.Init != "":
		return c.Init
	}
	return "random initialisation"
}
