package experiment

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Grid is an experiment file: pre-training rows × segmentation heads × seeds. Every cell
// fine-tunes one head, for one seed, from the encoder the row's chain of pre-training stages
// ends with, then exports and evaluates the model.
type Grid struct {
	Title string   // a line for results.md
	Data  string   // fine-tuning and evaluation data (train and val splits), ${VAR} expanded
	Seeds []uint64 // each seed is one pass over every row and head

	Pretrain Flags // `train pretext` flags shared by every stage (data defaults to Data)
	Finetune Flags // `train seg` flags shared by every cell
	Eval     Eval  // how cells are evaluated
	Heads    []Head
	Rows     []Row
	Slurm    SlurmSpec // sbatch resources per kind of job, for `ssl4dp experiment --slurm`

	Source string // the file the grid was read from ("" when parsed from bytes)
}

// Head is one column group of the table: a name and the `train seg` flags (head, …) that
// make it, on top of Grid.Finetune.
type Head struct {
	Name  string
	Flags Flags
}

// Row is one line group of the table: how the encoder is pre-trained before fine-tuning.
type Row struct {
	Name string
	// From continues the chain of another row: its stages (and its Init) come first, then
	// this row's Stages. Shared stages run once.
	From string
	// Stages are pre-training runs in order, each starting from the previous stage's
	// encoder.onnx (the first from Init, or from random initialisation).
	Stages []StageSpec
	// Init is a checkpoint (ONNX) the chain starts from, e.g. a supervised ImageNet model
	// exported from PyTorch. Nil: random initialisation. Pointing at "": a checkpoint row
	// whose file was not given, skipped with a note (the CLI's --init ROW=PATH sets it).
	Init *string
	// Transfer says what fine-tuning loads from the last stage: "encoder" (encoder.onnx, the
	// default) or "decoder" (decoder.onnx of plr, edmoco and pledmoco: encoder and head).
	Transfer string
	Finetune Flags  // `train seg` flags for this row's cells, over Grid.Finetune and the head's
	Note     string // shown in the table's note column
	// Against names rows this row is also compared with in results.md, beyond the first row
	// and From: a control ("MoCo + MoCo (control)", the same extra steps without the dense
	// task) that a continuation must beat to count as a gain from its task.
	Against []string
}

// StageSpec is one pre-training run: a method and its `train pretext` flags over
// Grid.Pretrain.
type StageSpec struct {
	Method string
	Flags  Flags
}

// Eval says how the exported models are evaluated (evaluate.Run, onnxruntime).
type Eval struct {
	Batch    int // images per forward pass (default 8, as `ssl4dp evaluate`)
	Overlays int // overlay PNGs written per cell (default 4; -1: none)
	Threads  int // onnxruntime intra-op threads (0: one per core)
	// Probes are frozen-encoder protocols (Protocols) run once per row and seed beside the
	// fine-tuning cells; each is a column of results.md next to the heads.
	Probes []string
	// LinearEpochs and RetrievalBank shrink the probes for a small machine: the linear
	// probe's passes over the train split (0: evaluate linear's default) and the retrieval
	// memory bank's most patches (0: evaluate retrieval's default, all of a small split).
	// Either, when set, is part of the probes' folder keys.
	LinearEpochs  int
	RetrievalBank int
}

// Transfer values.
const (
	TransferEncoder = "encoder"
	TransferDecoder = "decoder"
)

// GridError is a grid file that cannot be used as written: exit code 2.
type GridError struct {
	File string // "" when parsed from bytes
	Msg  string
}

func (e *GridError) Error() string {
	if e.File == "" {
		return "experiment: " + e.Msg
	}
	return fmt.Sprintf("experiment: %s: %s", e.File, e.Msg)
}

// ExitCode makes a bad grid a usage error in the CLI.
func (e *GridError) ExitCode() int { return 2 }

// Load reads and checks a grid file (Parse).
func Load(path string) (*Grid, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("experiment: %w", err)
	}
	return Parse(b, path)
}

// fileGrid is the TOML document as written.
type fileGrid struct {
	Title    string           `toml:"title"`
	Data     string           `toml:"data"`
	Seeds    []int64          `toml:"seeds"`
	Pretrain map[string]any   `toml:"pretrain"`
	Finetune map[string]any   `toml:"finetune"`
	Evaluate *fileEval        `toml:"evaluate"`
	Heads    []map[string]any `toml:"head"`
	Rows     []fileRow        `toml:"row"`
	Slurm    *fileSlurm       `toml:"slurm"`
}

type fileEval struct {
	Batch         int      `toml:"batch"`
	Overlays      int      `toml:"overlays"`
	Threads       int      `toml:"threads"`
	Probes        []string `toml:"probes"`
	LinearEpochs  int      `toml:"linear-epochs"`
	RetrievalBank int      `toml:"retrieval-bank"`
}

type fileRow struct {
	Name     string           `toml:"name"`
	From     string           `toml:"from"`
	Init     *string          `toml:"init"`
	Transfer string           `toml:"transfer"`
	Note     string           `toml:"note"`
	Stages   []map[string]any `toml:"stages"`
	Finetune map[string]any   `toml:"finetune"`
	Against  []string         `toml:"against"`
}

// Parse reads a grid from TOML (name is the file, for messages) and checks it completely —
// unknown keys, names, chains, and every stage's and cell's flags parsed as the commands
// parse them — so that a typo fails before hours of training, not after.
func Parse(src []byte, name string) (*Grid, error) {
	fail := func(format string, args ...any) error {
		return &GridError{File: name, Msg: fmt.Sprintf(format, args...)}
	}
	var fg fileGrid
	md, err := toml.Decode(string(src), &fg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fail("line %d: %s", pe.Position.Line, pe.Message)
		}
		return nil, fail("%v", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		hint := "want title, data, seeds, [pretrain], [finetune], [evaluate], [slurm], [[head]], [[row]]; a row has name, from, stages, init, transfer, finetune, note, against"
		switch und[0][0] {
		case "pretrain", "finetune", "head":
			hint = "a flag's value is a string, number, boolean or list, not a table"
		case "evaluate":
			hint = "[evaluate] has batch, overlays, threads, probes, linear-epochs, retrieval-bank"
		case "slurm":
			hint = slurmKeys
		}
		return nil, fail("unknown key %s (%s)", strings.Join(keys, ", "), hint)
	}
	g := &Grid{Title: fg.Title, Data: strings.TrimSpace(fg.Data), Source: name}
	if g.Data == "" {
		return nil, fail(`no data: give the fine-tuning dataset, e.g. data = "synthetic"`)
	}
	if len(fg.Seeds) == 0 {
		return nil, fail("no seeds: give at least one, e.g. seeds = [1]")
	}
	for _, s := range fg.Seeds {
		if s < 0 {
			return nil, fail("seed %d; want ≥ 0", s)
		}
		if slices.Contains(g.Seeds, uint64(s)) {
			return nil, fail("seed %d is listed twice", s)
		}
		g.Seeds = append(g.Seeds, uint64(s))
	}
	if g.Pretrain, err = toFlags(fg.Pretrain, "[pretrain]", pretrainReserved); err != nil {
		return nil, fail("%v", err)
	}
	if g.Finetune, err = toFlags(fg.Finetune, "[finetune]", finetuneReserved); err != nil {
		return nil, fail("%v", err)
	}
	g.Eval = Eval{Batch: 8, Overlays: 4}
	if e := fg.Evaluate; e != nil {
		if e.Batch < 0 || e.Overlays < -1 || e.Threads < 0 {
			return nil, fail("[evaluate] batch %d, overlays %d, threads %d: want batch ≥ 0, overlays ≥ -1, threads ≥ 0", e.Batch, e.Overlays, e.Threads)
		}
		if e.Batch > 0 {
			g.Eval.Batch = e.Batch
		}
		if e.Overlays != 0 {
			g.Eval.Overlays = max(e.Overlays, 0)
		}
		g.Eval.Threads = e.Threads
		if err := checkProbes(e.Probes); err != nil {
			return nil, fail("%v", err)
		}
		g.Eval.Probes = e.Probes
		if e.LinearEpochs < 0 || e.RetrievalBank < 0 {
			return nil, fail("[evaluate] linear-epochs %d, retrieval-bank %d: want ≥ 0 (0: the protocol's default)", e.LinearEpochs, e.RetrievalBank)
		}
		g.Eval.LinearEpochs, g.Eval.RetrievalBank = e.LinearEpochs, e.RetrievalBank
	}
	if g.Slurm, err = readSlurm(fg.Slurm); err != nil {
		return nil, fail("%v", err)
	}
	if err := g.readHeads(fg.Heads); err != nil {
		return nil, fail("%v", err)
	}
	if err := g.readRows(fg.Rows); err != nil {
		return nil, fail("%v", err)
	}
	if err := g.check(); err != nil {
		return nil, fail("%v", err)
	}
	return g, nil
}

func (g *Grid) readHeads(heads []map[string]any) error {
	if len(heads) == 0 {
		return errors.New(`no [[head]]: give at least one, e.g. [[head]] name = "MoCoFCN" head = "fcn"`)
	}
	for i, h := range heads {
		name, _ := h["name"].(string)
		if strings.TrimSpace(name) == "" {
			return fmt.Errorf("head %d has no name", i+1)
		}
		rest := without(h, "name")
		fl, err := toFlags(rest, fmt.Sprintf("head %q", name), finetuneReserved)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(g.Heads, func(o Head) bool { return o.Name == name }) {
			return fmt.Errorf("head %q is defined twice", name)
		}
		g.Heads = append(g.Heads, Head{Name: name, Flags: fl})
	}
	return nil
}

func (g *Grid) readRows(rows []fileRow) error {
	if len(rows) == 0 {
		return errors.New(`no [[row]]: give at least one, e.g. [[row]] name = "RandomInit"`)
	}
	for i, fr := range rows {
		name := strings.TrimSpace(fr.Name)
		if name == "" {
			return fmt.Errorf("row %d has no name", i+1)
		}
		if slices.ContainsFunc(g.Rows, func(o Row) bool { return o.Name == name }) {
			return fmt.Errorf("row %q is defined twice", name)
		}
		r := Row{Name: name, From: strings.TrimSpace(fr.From), Init: fr.Init, Transfer: fr.Transfer, Note: fr.Note, Against: fr.Against}
		if r.Transfer == "" {
			r.Transfer = TransferEncoder
		}
		if r.Transfer != TransferEncoder && r.Transfer != TransferDecoder {
			return fmt.Errorf("row %q: transfer %q; want %q or %q", name, r.Transfer, TransferEncoder, TransferDecoder)
		}
		for j, st := range fr.Stages {
			method, _ := st["method"].(string)
			if method == "" {
				return fmt.Errorf("row %q: stage %d has no method (want e.g. { method = \"moco\", epochs = 20 })", name, j+1)
			}
			if !slices.Contains(stageMethods(), method) {
				return fmt.Errorf("row %q: stage %d: method %q; want one of %s", name, j+1, method, stageMethodList())
			}
			fl, err := toFlags(without(st, "method"), fmt.Sprintf("row %q stage %d (%s)", name, j+1, method), stageReserved)
			if err != nil {
				return err
			}
			r.Stages = append(r.Stages, StageSpec{Method: method, Flags: fl})
		}
		var err error
		if r.Finetune, err = toFlags(fr.Finetune, fmt.Sprintf("row %q finetune", name), finetuneReserved); err != nil {
			return err
		}
		g.Rows = append(g.Rows, r)
	}
	return nil
}

// without copies m without the given keys.
func without(m map[string]any, drop ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if !slices.Contains(drop, k) {
			out[k] = v
		}
	}
	return out
}

// Row returns the row called name, or nil.
func (g *Grid) Row(name string) *Row {
	for i := range g.Rows {
		if g.Rows[i].Name == name {
			return &g.Rows[i]
		}
	}
	return nil
}

// chain is a row's full list of stages and its starting checkpoint, following From.
func (g *Grid) chain(r *Row) (stages []StageSpec, init *string, err error) {
	seen := map[string]bool{}
	var rows []*Row
	for cur := r; cur != nil; {
		if seen[cur.Name] {
			return nil, nil, fmt.Errorf("row %q: from leads back to row %q (a cycle)", r.Name, cur.Name)
		}
		seen[cur.Name] = true
		rows = append(rows, cur)
		if cur.From == "" {
			break
		}
		next := g.Row(cur.From)
		if next == nil {
			return nil, nil, fmt.Errorf("row %q: from %q names no row", cur.Name, cur.From)
		}
		cur = next
	}
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].Init != nil {
			if init != nil {
				return nil, nil, fmt.Errorf("row %q: both it and row %q (through from) give init; give it once", r.Name, rows[i].Name)
			}
			if len(stages) > 0 {
				return nil, nil, fmt.Errorf("row %q: init comes after the stages of the row it continues; an init row must start the chain", rows[i].Name)
			}
			init = rows[i].Init
		}
		stages = append(stages, rows[i].Stages...)
	}
	return stages, init, nil
}

// check resolves every row's chain and parses every stage's and cell's flags the way the
// commands will.
func (g *Grid) check() error {
	if _, err := parsePretrain(argsFor(g.Pretrain, Flags{"method": "moco"}, g.pretrainData(nil)), true); err != nil {
		return fmt.Errorf("[pretrain]: %w", err)
	}
	for i := range g.Rows {
		r := &g.Rows[i]
		stages, _, err := g.chain(r)
		if err != nil {
			return err
		}
		for _, a := range r.Against {
			if g.Row(a) == nil || a == r.Name {
				return fmt.Errorf("row %q: against %q names no other row", r.Name, a)
			}
		}
		for j, st := range r.Stages {
			if _, err := parseStage(st.Method, stageArgs(st.Method, g.Pretrain, st.Flags, g.pretrainData(st.Flags), nil), true); err != nil {
				return fmt.Errorf("row %q stage %d (%s): %w", r.Name, j+1, st.Method, err)
			}
		}
		if r.Transfer == TransferDecoder && (len(stages) == 0 || !decoderMethod(stages[len(stages)-1].Method)) {
			return fmt.Errorf("row %q: transfer = \"decoder\" needs a last stage that writes decoder.onnx (plr, edmoco, pledmoco)", r.Name)
		}
		for _, h := range g.Heads {
			if _, err := parseFinetune(argsFor(g.Finetune, h.Flags, r.Finetune, Flags{"data": g.Data}), true); err != nil {
				return fmt.Errorf("row %q, head %q: %w", r.Name, h.Name, err)
			}
		}
	}
	return nil
}

// pretrainData is the data flag of a stage: its own, [pretrain]'s, or the grid's data.
func (g *Grid) pretrainData(stage Flags) Flags {
	if _, ok := stage["data"]; ok {
		return nil
	}
	if _, ok := g.Pretrain["data"]; ok {
		return nil
	}
	return Flags{"data": g.Data}
}
