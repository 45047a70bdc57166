package experiment

import (
	"fmt"
	"regexp"
	"strings"
)

// SlurmResources is what one Slurm job asks for: each becomes an sbatch option (empty or
// zero: not passed, the cluster's default).
type SlurmResources struct {
	Partition string   // --partition
	Account   string   // --account
	Time      string   // --time, in Slurm's formats: "30", "4:00:00", "1-12:00:00"
	GPUs      int      // --gres=gpu:N (see SlurmOptions for why gres and not --gpus)
	CPUs      int      // --cpus-per-task; the job's GOMAXPROCS follows it
	Mem       string   // --mem, e.g. "32G"
	Args      []string // further sbatch options, each one argument: "--qos=long", "--constraint=a100"
}

// SlurmSpec is the grid's [slurm] table resolved per kind of job: pre-training stages,
// cells (fine-tune, export, evaluate) and the report job that writes results.md at the end.
type SlurmSpec struct {
	Stage, Cell, Report SlurmResources
}

// SlurmOverride is a set of command-line overrides (--partition, …); nil fields keep the
// grid's values. They apply to every kind of job, except that --gpus-per-job leaves the
// report job (which trains nothing) without GPUs.
type SlurmOverride struct {
	Partition, Account, Time *string
	GPUs                     *int
	Args                     []string // appended
}

// Apply returns the spec with the overrides.
func (s SlurmSpec) Apply(o SlurmOverride) SlurmSpec {
	set := func(r *SlurmResources, report bool) {
		if o.Partition != nil {
			r.Partition = *o.Partition
		}
		if o.Account != nil {
			r.Account = *o.Account
		}
		if o.Time != nil && !report {
			r.Time = *o.Time
		}
		if o.GPUs != nil && !report {
			r.GPUs = *o.GPUs
		}
		r.Args = append(append([]string(nil), r.Args...), o.Args...)
	}
	set(&s.Stage, false)
	set(&s.Cell, false)
	set(&s.Report, true)
	return s
}

// fileSlurmJob is one table of [slurm] as written: the top level, [slurm.stage],
// [slurm.cell] or [slurm.report].
type fileSlurmJob struct {
	Partition *string  `toml:"partition"`
	Account   *string  `toml:"account"`
	Time      *string  `toml:"time"`
	GPUs      *int     `toml:"gpus-per-job"`
	CPUs      *int     `toml:"cpus-per-task"`
	Mem       *string  `toml:"mem"`
	Args      []string `toml:"sbatch-args"`
}

type fileSlurm struct {
	Partition *string       `toml:"partition"`
	Account   *string       `toml:"account"`
	Time      *string       `toml:"time"`
	GPUs      *int          `toml:"gpus-per-job"`
	CPUs      *int          `toml:"cpus-per-task"`
	Mem       *string       `toml:"mem"`
	Args      []string      `toml:"sbatch-args"`
	Stage     *fileSlurmJob `toml:"stage"`
	Cell      *fileSlurmJob `toml:"cell"`
	Report    *fileSlurmJob `toml:"report"`
}

const slurmKeys = "[slurm] has partition, account, time, gpus-per-job, cpus-per-task, mem, sbatch-args, and tables [slurm.stage], [slurm.cell], [slurm.report] with the same keys"

// slurmTime is Slurm's --time syntax: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS.
var slurmTime = regexp.MustCompile(`^(\d+-)?\d+(:\d+){0,2}$|^UNLIMITED$|^INFINITE$`)

// readSlurm resolves [slurm]: the top level applies to every job, the per-kind tables over
// it. The report job defaults to one CPU, no GPUs and 30 minutes, whatever the top level
// says, since it only reads the cells' records.
func readSlurm(f *fileSlurm) (SlurmSpec, error) {
	var spec SlurmSpec
	spec.Report = SlurmResources{CPUs: 1, Time: "30:00"}
	if f == nil {
		return spec, nil
	}
	top := fileSlurmJob{Partition: f.Partition, Account: f.Account, Time: f.Time, GPUs: f.GPUs, CPUs: f.CPUs, Mem: f.Mem, Args: f.Args}
	apply := func(r *SlurmResources, t *fileSlurmJob, where string) error {
		if t == nil {
			return nil
		}
		str := func(dst *string, v *string) {
			if v != nil {
				*dst = strings.TrimSpace(*v)
			}
		}
		str(&r.Partition, t.Partition)
		str(&r.Account, t.Account)
		str(&r.Mem, t.Mem)
		if t.Time != nil {
			r.Time = strings.TrimSpace(*t.Time)
			if r.Time != "" && !slurmTime.MatchString(r.Time) {
				return fmt.Errorf("%s: time %q; want Slurm's format: minutes, HH:MM:SS or D-HH:MM:SS", where, *t.Time)
			}
		}
		if t.GPUs != nil {
			if *t.GPUs < 0 {
				return fmt.Errorf("%s: gpus-per-job %d; want ≥ 0", where, *t.GPUs)
			}
			r.GPUs = *t.GPUs
		}
		if t.CPUs != nil {
			if *t.CPUs < 0 {
				return fmt.Errorf("%s: cpus-per-task %d; want ≥ 0 (0: the cluster's default)", where, *t.CPUs)
			}
			r.CPUs = *t.CPUs
		}
		for _, a := range t.Args {
			if !strings.HasPrefix(a, "-") {
				return fmt.Errorf("%s: sbatch-args %q: each entry is one sbatch option, e.g. \"--qos=long\"", where, a)
			}
		}
		r.Args = append(r.Args, t.Args...)
		return nil
	}
	for _, r := range []*SlurmResources{&spec.Stage, &spec.Cell} {
		if err := apply(r, &top, "[slurm]"); err != nil {
			return spec, err
		}
	}
	// The report job takes only where and under which account the grid runs, and the extra
	// options (a --qos, a --constraint may be required by the cluster).
	spec.Report.Partition, spec.Report.Account = spec.Cell.Partition, spec.Cell.Account
	spec.Report.Args = append(spec.Report.Args, top.Args...)
	if err := apply(&spec.Stage, f.Stage, "[slurm.stage]"); err != nil {
		return spec, err
	}
	if err := apply(&spec.Cell, f.Cell, "[slurm.cell]"); err != nil {
		return spec, err
	}
	if err := apply(&spec.Report, f.Report, "[slurm.report]"); err != nil {
		return spec, err
	}
	return spec, nil
}
