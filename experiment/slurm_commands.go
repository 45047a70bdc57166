package experiment

import (
	"bytes"
	"fmt"
	"os/exec"
	"os/user"
	"slices"
	"strings"
)

// SlurmCommands is Slurm through its commands on PATH (sbatch, squeue, scancel, and sacct
// where accounting exists), talking to the cluster that SLURM_CONF or /etc/slurm names.
type SlurmCommands struct{}

func slurmRun(stdin string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		hint := ""
		if _, lerr := exec.LookPath(name); lerr != nil {
			hint = " (is this a Slurm login node? the Slurm commands are not on PATH)"
		}
		return "", fmt.Errorf("experiment: %s: %s%s", name, msg, hint)
	}
	return stdout.String(), nil
}

// Submit runs sbatch --parsable ARGS with the script on stdin.
func (SlurmCommands) Submit(args []string, script string) (string, error) {
	out, err := slurmRun(script, "sbatch", append([]string{"--parsable"}, args...)...)
	if err != nil {
		return "", err
	}
	return parseSbatch(out)
}

// parseSbatch reads sbatch --parsable's answer: "ID" or "ID;CLUSTER".
func parseSbatch(out string) (string, error) {
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";")
	if id == "" || strings.Trim(id, "0123456789") != "" {
		return "", fmt.Errorf("experiment: sbatch answered %q, not a job ID", out)
	}
	return id, nil
}

// squeueFormat asks squeue for the ID, the state and the reason of each job.
const squeueFormat = "%i|%T|%r"

// Jobs asks squeue for every job of this user in any state (-t all also lists jobs that
// ended less than MinJobAge ago), then sacct for those squeue has forgotten; without
// accounting storage (a plain cluster) sacct fails and they stay unknown.
func (SlurmCommands) Jobs(ids []string) (map[string]SlurmJob, error) {
	if len(ids) == 0 {
		return map[string]SlurmJob{}, nil
	}
	// --user rather than --me, which Slurm before 20.11 lacks.
	who := "--me"
	if u, err := user.Current(); err == nil {
		who = "--user=" + u.Username
	}
	out, err := slurmRun("", "squeue", "--noheader", who, "--states=all", "--format="+squeueFormat)
	if err != nil {
		return nil, err
	}
	all := parseSqueue(out)
	jobs := map[string]SlurmJob{}
	var missing []string
	for _, id := range ids {
		if j, ok := all[id]; ok {
			jobs[id] = j
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		if out, err := slurmRun("", "sacct", "--noheader", "--parsable2", "--allocations", "--format=JobID,State", "--jobs="+strings.Join(missing, ",")); err == nil {
			for id, j := range parseSacct(out) {
				if slices.Contains(missing, id) {
					jobs[id] = j
				}
			}
		}
	}
	return jobs, nil
}

// parseSqueue reads lines of squeueFormat.
func parseSqueue(out string) map[string]SlurmJob {
	jobs := map[string]SlurmJob{}
	for line := range strings.Lines(out) {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) < 3 || f[0] == "" {
			continue
		}
		jobs[f[0]] = SlurmJob{ID: f[0], State: f[1], Reason: f[2]}
	}
	return jobs
}

// parseSacct reads sacct --parsable2 --format=JobID,State: "12|COMPLETED",
// "13|CANCELLED by 0".
func parseSacct(out string) map[string]SlurmJob {
	jobs := map[string]SlurmJob{}
	for line := range strings.Lines(out) {
		id, state, ok := strings.Cut(strings.TrimSpace(line), "|")
		if !ok || id == "" {
			continue
		}
		state, _, _ = strings.Cut(state, " ")
		jobs[id] = SlurmJob{ID: id, State: state}
	}
	return jobs
}

// Cancel runs scancel on the jobs.
func (SlurmCommands) Cancel(ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := slurmRun("", "scancel", ids...)
	return err
}
