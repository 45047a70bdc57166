package main

import "testing"

// kong checks struct tags only at run time; building the parser here catches a bad tag.
func TestParserBuilds(t *testing.T) {
	var cli CLI
	if _, err := newParser(&cli); err != nil {
		t.Fatal(err)
	}
}

func TestHelpExitsZero(t *testing.T) {
	if code := run([]string{"--help"}); code != 0 {
		t.Fatalf("--help exit code %d", code)
	}
	if code := run([]string{"no-such-command"}); code != 2 {
		t.Fatalf("unknown command exit code %d, want 2", code)
	}
}
