package ort

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeLib makes an empty file standing in for a library (LibraryPath only looks for files).
func fakeLib(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// isolate points every place LibraryPath looks at empty temporary folders.
func isolate(t *testing.T) (cache, sys string) {
	t.Helper()
	root := t.TempDir()
	cache, sys = filepath.Join(root, "cache"), filepath.Join(root, "sys")
	t.Setenv("SSL4DP_CACHE", cache)
	t.Setenv(EnvLibrary, "")
	t.Setenv("LD_LIBRARY_PATH", "")
	oldConf, oldStd := ldConfDir, standardDirs
	ldConfDir, standardDirs = filepath.Join(root, "ld.so.conf.d"), []string{sys}
	t.Cleanup(func() { ldConfDir, standardDirs = oldConf, oldStd })
	return cache, sys
}

func TestLibraryPathOrder(t *testing.T) {
	cache, sys := isolate(t)
	root := filepath.Dir(cache)

	if _, err := LibraryPath(""); err == nil {
		t.Fatal("nothing installed: want an error")
	} else {
		for _, want := range []string{"not found", "just setup", "onnxruntime-node@" + ORTVersion, "--ort-lib", EnvLibrary, "onnxruntime-linux-x64-gpu-", cache} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("not-found error should mention %q: %v", want, err)
			}
		}
	}

	// Lowest priority first; each step must win over the ones before it.
	sysLib := fakeLib(t, filepath.Join(sys, "libonnxruntime.so"))
	expect(t, "", sysLib)
	sysLib1 := fakeLib(t, filepath.Join(sys, "libonnxruntime.so.1"))
	expect(t, "", sysLib1)

	confDir := filepath.Join(root, "conf-listed")
	confLib := fakeLib(t, filepath.Join(confDir, "libonnxruntime.so"))
	fakeLib(t, filepath.Join(ldConfDir, "onnxruntime.conf"))
	if err := os.WriteFile(filepath.Join(ldConfDir, "onnxruntime.conf"), []byte("# comment\n"+confDir+"  # trailing\ninclude other.conf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	expect(t, "", confLib)

	ldDir := filepath.Join(root, "ld")
	ldLib := fakeLib(t, filepath.Join(ldDir, "libonnxruntime.so.1"))
	t.Setenv("LD_LIBRARY_PATH", "relative/ignored:"+ldDir)
	expect(t, "", ldLib)

	cacheLib := fakeLib(t, CacheLibrary())
	if !strings.HasPrefix(cacheLib, cache) {
		t.Fatalf("CacheLibrary %s is not under $SSL4DP_CACHE %s", cacheLib, cache)
	}
	expect(t, "", cacheLib)

	envLib := fakeLib(t, filepath.Join(root, "env", "libonnxruntime.so"))
	t.Setenv(EnvLibrary, envLib)
	expect(t, "", envLib)

	flagLib := fakeLib(t, filepath.Join(root, "flag", "libonnxruntime.so"))
	expect(t, flagLib, flagLib)

	// A relative name is made absolute, or dlopen would search the loader path instead.
	t.Chdir(filepath.Join(root, "flag"))
	expect(t, "libonnxruntime.so", flagLib)
}

func expect(t *testing.T, flag, want string) {
	t.Helper()
	got, err := LibraryPath(flag)
	if err != nil || got != want {
		t.Fatalf("LibraryPath(%q) = %q, %v; want %q", flag, got, err, want)
	}
}

// A flag or variable naming a missing file is an error, even when the cache has a library.
func TestLibraryPathExplicitMissing(t *testing.T) {
	isolate(t)
	fakeLib(t, CacheLibrary())
	if _, err := LibraryPath("/nope/libonnxruntime.so"); err == nil || !strings.Contains(err.Error(), "--ort-lib names /nope/libonnxruntime.so, which does not exist") {
		t.Errorf("missing flag file: %v", err)
	}
	if _, err := LibraryPath(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("folder as flag: %v", err)
	}
	t.Setenv(EnvLibrary, "/nope/env.so")
	if _, err := LibraryPath(""); err == nil || !strings.Contains(err.Error(), "$"+EnvLibrary+" names /nope/env.so") {
		t.Errorf("missing env file: %v", err)
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv("SSL4DP_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if got := CacheDir(); got != "/x/cache/ssl4dp" {
		t.Errorf("CacheDir with XDG_CACHE_HOME = %q", got)
	}
	t.Setenv("SSL4DP_CACHE", "/y")
	if got := CacheLibrary(); got != "/y/onnxruntime-"+ORTVersion+"/libonnxruntime.so.1" {
		t.Errorf("CacheLibrary = %q", got)
	}
}

// Loading a file that is not a library must be an error, not a crash. It runs in a child
// process because a process can load onnxruntime only once, and this package's other tests
// load the real one.
func TestInitBadLibrary(t *testing.T) {
	if bad := os.Getenv("ORT_TEST_BAD_LIB"); bad != "" {
		if Version() != "" || Loaded() != "" {
			t.Fatal("Version/Loaded before Init must be empty")
		}
		err := Init(bad)
		if err == nil {
			t.Fatal("Init of a non-library succeeded")
		}
		os.Stdout.WriteString("INIT ERROR: " + err.Error() + "\n")
		return
	}
	if !cgoEnabled {
		t.Skip(ErrNoCgo)
	}
	bad := filepath.Join(t.TempDir(), "libonnxruntime.so")
	if err := os.WriteFile(bad, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestInitBadLibrary$", "-test.v")
	cmd.Env = append(os.Environ(), "ORT_TEST_BAD_LIB="+bad)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "INIT ERROR: ort: cannot load onnxruntime from "+bad) {
		t.Fatalf("child output lacks the expected error:\n%s", out)
	}
}
