package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReplacesAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	if err := WriteJSON(p, map[string]int{"x": 1}); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSONLines(p, []int{1, 2}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "1\n2\n" {
		t.Fatalf("content %q", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("%d entries left in folder", len(ents))
	}
}

func TestPrepareDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	if err := PrepareDir(file); err == nil {
		t.Fatal("a file accepted as output folder")
	}
	if err := PrepareDir(filepath.Join(dir, "a", "b")); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o500)
		if err := PrepareDir(ro); err == nil {
			t.Fatal("read-only folder accepted")
		}
	}
	if err := Write(filepath.Join(dir, "missing", "x"), nil); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
}

func TestIsTemp(t *testing.T) {
	for name, want := range map[string]bool{
		".checkpoint.bin.tmp-123456":                true,
		".checkpoint.bin.tmp-4294967295":            true,
		".checkpoint.bin.tmp-":                      false,
		".checkpoint.bin.tmp-12a":                   false,
		".checkpoint.bin.tmp-12.bak":                false,
		"checkpoint.bin.tmp-1":                      false,
		".checkpoint.bin":                           false,
		".checkpoint.binx.tmp-1":                    false,
		"..checkpoint.bin.tmp-1":                    false,
		".checkpoint.bin.tmp-123456789012345678901": false,
	} {
		if got := IsTemp(name, "checkpoint.bin"); got != want {
			t.Errorf("IsTemp(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestRemoveStale: the temporary files a SIGKILL leaves between CreateTemp
// and rename are removed for the names asked; every other entry stays.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Real temporary names, made the way Write makes them.
	var stale []string
	for _, base := range []string{"checkpoint.bin", "metrics.jsonl"} {
		f, err := os.CreateTemp(dir, tempPrefix(base)+"*")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		stale = append(stale, f.Name())
	}
	keep := []string{
		mk("checkpoint.bin"), mk("metrics.jsonl"), mk("summary.json"),
		mk(".summary.json.tmp-77"),       // a name not asked for
		mk(".checkpoint.bin.tmp-12x"),    // not Write's pattern
		mk("notes.checkpoint.bin.tmp-1"), // not Write's pattern
	}
	sub := filepath.Join(dir, ".checkpoint.bin.tmp-99")
	os.Mkdir(sub, 0o755)
	link := filepath.Join(dir, ".metrics.jsonl.tmp-98")
	os.Symlink(keep[0], link)
	keep = append(keep, sub, link)

	removed, err := RemoveStale(dir, "checkpoint.bin", "metrics.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != len(stale) {
		t.Fatalf("removed %v, want %v", removed, stale)
	}
	for _, p := range stale {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there", p)
		}
	}
	for _, p := range keep {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	if removed, err := RemoveStale(filepath.Join(dir, "missing"), "checkpoint.bin"); err != nil || removed != nil {
		t.Fatalf("missing folder: %v, %v", removed, err)
	}
	// A Write after a removal works and leaves no temporary file.
	if err := Write(filepath.Join(dir, "checkpoint.bin"), []byte("new")); err != nil {
		t.Fatal(err)
	}
	if removed, _ := RemoveStale(dir, "checkpoint.bin"); len(removed) != 0 {
		t.Fatalf("Write left %v", removed)
	}
}

// TestPrepareDirDanglingLink: an output folder that is a symbolic link
// to nothing is named as such (not "mkdir: file exists").
func TestPrepareDirDanglingLink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "out")
	if err := os.Symlink(filepath.Join(dir, "gone"), link); err != nil {
		t.Skip(err)
	}
	err := PrepareDir(link)
	if err == nil || !strings.Contains(err.Error(), "is a symbolic link to "+filepath.Join(dir, "gone")+", which does not exist") {
		t.Fatalf("PrepareDir of a dangling link: %v", err)
	}
}
