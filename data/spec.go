package data

import (
	"slices"
	"strconv"
	"strings"
)

// params are the key=value settings of a synthetic or cutpaste spec.
type params struct {
	spec string
	kv   map[string]string
}

// parseParams splits "a=1,b=x" and rejects keys outside allowed.
func parseParams(spec, rest string, allowed ...string) (params, error) {
	p := params{spec: spec, kv: map[string]string{}}
	if rest == "" {
		return p, nil
	}
	for _, f := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(f, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return p, specErr(spec, "%q is not key=value", f)
		}
		if !slices.Contains(allowed, k) {
			return p, specErr(spec, "unknown key %q; want one of %s", k, strings.Join(allowed, ", "))
		}
		if _, dup := p.kv[k]; dup {
			return p, specErr(spec, "key %q given twice", k)
		}
		p.kv[k] = strings.TrimSpace(v)
	}
	return p, nil
}

// int returns key's value, def when absent, and an error outside [lo, hi].
func (p params) int(key string, def, lo, hi int) (int, error) {
	s, ok := p.kv[key]
	if !ok {
		return def, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, specErr(p.spec, "%s=%q is not an integer", key, s)
	}
	if v < lo || v > hi {
		return 0, specErr(p.spec, "%s=%d is outside [%d, %d]", key, v, lo, hi)
	}
	return v, nil
}

func (p params) uint64(key string, def uint64) (uint64, error) {
	s, ok := p.kv[key]
	if !ok {
		return def, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, specErr(p.spec, "%s=%q is not a non-negative integer", key, s)
	}
	return v, nil
}

func (p params) str(key string) string { return p.kv[key] }
