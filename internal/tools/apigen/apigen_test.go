package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedIsCurrent regenerates internal/lightsail from the model and compares it with what is
// committed, so a hand edit of a zz_ file, or a generator change without regeneration, fails CI.
func TestGeneratedIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the model modules from the module cache or proxy")
	}
	files, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", "..", "lightsail", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("internal/lightsail/%s is stale: run go generate ./internal/lightsail", name)
		}
	}
}
