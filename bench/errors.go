package bench

import "fmt"

// ConfigError is a setting that cannot be benchmarked (a batch of 0, an unknown method, a
// model input whose size bench cannot choose): bad user input, exit code 2 in the CLI.
type ConfigError struct {
	Msg string // names the setting and shows the bad value beside what is wanted
}

func (e *ConfigError) Error() string { return "bench: " + e.Msg }

// ExitCode makes the CLI exit with 2, as for a bad flag.
func (e *ConfigError) ExitCode() int { return 2 }

func configErr(format string, args ...any) error {
	return &ConfigError{fmt.Sprintf(format, args...)}
}
