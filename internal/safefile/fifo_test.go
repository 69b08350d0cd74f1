//go:build unix

package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sgds/sgds/internal/testfs"
)

// TestFIFO: a named pipe with no writer is refused at once (a plain open
// would block forever), also behind a symbolic link.
func TestFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "train-images-idx3-ubyte.gz")
	if err := testfs.FIFO(fifo); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	link := filepath.Join(dir, "checkpoint.bin")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, link} {
		testfs.Within(t, 5*time.Second, func() {
			_, err := ReadAll(p, 1<<20)
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "named pipe (FIFO)") || !strings.Contains(err.Error(), p) {
				t.Errorf("err = %v, want ErrNotRegular naming %s as a FIFO", err, p)
			}
		})
	}
	// The non-blocking open itself: even past the Stat check (a FIFO
	// swapped in after it), opening does not block.
	testfs.Within(t, 5*time.Second, func() {
		f, err := openNonblock(fifo)
		if err != nil {
			t.Errorf("non-blocking open: %v", err)
			return
		}
		f.Close()
	})
}
