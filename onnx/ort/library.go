package ort

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ORTVersion is the onnxruntime release `just setup` installs (scripts/setup_ort.sh).
const ORTVersion = "1.30.0"

// EnvLibrary is the environment variable that names the onnxruntime shared library, the same
// one onnxruntime_go's own examples use.
const EnvLibrary = "ONNXRUNTIME_SHARED_LIBRARY_PATH"

// libNames are the file names a system install (a release tarball copied to /usr/local/lib,
// a distribution package) gives the library, most specific first.
var libNames = []string{"libonnxruntime.so.1", "libonnxruntime.so"}

// LibraryPath resolves the onnxruntime shared library, first match wins:
//
//  1. flag (the --ort-lib command-line flag), when not empty;
//  2. $ONNXRUNTIME_SHARED_LIBRARY_PATH, when set;
//  3. the setup cache, CacheLibrary() (what `just setup` installs);
//  4. libonnxruntime.so.1 / libonnxruntime.so in $LD_LIBRARY_PATH, the folders listed in
//     /etc/ld.so.conf.d, and the standard library folders.
//
// A flag or variable that names a missing file is an error rather than a fall-through: the
// user asked for that library, and silently running another one would hide the mistake.
// When nothing is found the error says how to get the library.
func LibraryPath(flag string) (string, error) {
	if flag != "" {
		return existing(flag, "--ort-lib")
	}
	if env := os.Getenv(EnvLibrary); env != "" {
		return existing(env, "$"+EnvLibrary)
	}
	cache := CacheLibrary()
	if isFile(cache) {
		return cache, nil
	}
	dirs := systemDirs()
	for _, dir := range dirs {
		for _, name := range libNames {
			if p := filepath.Join(dir, name); isFile(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("ort: onnxruntime shared library not found (looked for --ort-lib, $%s, %s, and %s in %s); "+
		"get the CPU build with `just setup` (it takes package/bin/napi-v6/linux/x64/libonnxruntime.so.1 from the npm package onnxruntime-node@%s), "+
		"or pass --ort-lib / set $%s to a library you have (for --provider cuda: a GPU build, onnxruntime-linux-x64-gpu-%s/lib/libonnxruntime.so)",
		EnvLibrary, cache, strings.Join(libNames, " / "), strings.Join(dirs, ":"), ORTVersion, EnvLibrary, ORTVersion)
}

// CacheDir is ssl4dp's download cache: $SSL4DP_CACHE, else $XDG_CACHE_HOME/ssl4dp, else
// ~/.cache/ssl4dp. scripts/setup_ort.sh uses the same rule.
func CacheDir() string {
	if d := os.Getenv("SSL4DP_CACHE"); d != "" {
		return d
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "ssl4dp")
}

// CacheLibrary is where `just setup` puts the CPU library.
func CacheLibrary() string {
	return filepath.Join(CacheDir(), "onnxruntime-"+ORTVersion, "libonnxruntime.so.1")
}

func existing(path, from string) (string, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("ort: %s names %s, which does not exist", from, path)
	case err != nil:
		return "", fmt.Errorf("ort: %s: %w", from, err)
	case st.IsDir():
		return "", fmt.Errorf("ort: %s names %s, which is a folder; give the libonnxruntime.so file inside its lib/ folder", from, path)
	}
	// dlopen searches the loader's folders for a name without a slash; a file the user
	// named relative to the working directory must be loaded from there.
	if abs, err := filepath.Abs(path); err == nil {
		return abs, nil
	}
	return path, nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// ldConfDir is where the dynamic linker's extra search folders are listed (a variable so
// tests can point it elsewhere).
var ldConfDir = "/etc/ld.so.conf.d"

// standardDirs are the folders ldconfig always searches, plus /usr/local/lib where release
// tarballs are usually copied.
var standardDirs = []string{"/usr/local/lib", "/usr/local/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu", "/lib64", "/lib"}

// systemDirs lists the folders the dynamic linker would search, in its order.
func systemDirs() []string {
	var dirs []string
	seen := map[string]bool{}
	add := func(d string) {
		if d != "" && filepath.IsAbs(d) && !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	for _, d := range filepath.SplitList(os.Getenv("LD_LIBRARY_PATH")) {
		add(d)
	}
	confs, _ := filepath.Glob(filepath.Join(ldConfDir, "*.conf"))
	for _, conf := range confs {
		for _, d := range confLines(conf) {
			add(d)
		}
	}
	for _, d := range standardDirs {
		add(d)
	}
	return dirs
}

// confLines returns the folder lines of one ld.so.conf.d file (comments and include lines
// are skipped: ldconfig's includes are not needed to find one library).
func confLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if strings.HasPrefix(line, "/") {
			out = append(out, line)
		}
	}
	return out
}
