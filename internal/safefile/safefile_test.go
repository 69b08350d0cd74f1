package safefile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sgds/sgds/internal/testfs"
)

func TestReadAllRegular(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	want := bytes.Repeat([]byte("sgds"), 1000)
	if err := os.WriteFile(p, want, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int64{4000, 4001, 1 << 20} {
		got, err := ReadAll(p, limit)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("limit %d: %d bytes, %v", limit, len(got), err)
		}
	}
	if _, err := ReadAll(p, 3999); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), p) {
		t.Fatalf("limit below the size: err = %v, want ErrTooLarge naming the file", err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o644)
	if got, err := ReadAll(empty, 0); err != nil || len(got) != 0 {
		t.Fatalf("empty file: %q, %v", got, err)
	}
	if _, err := ReadAll(filepath.Join(t.TempDir(), "missing"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v", err)
	}
}

// TestNotRegular: a directory, /dev/zero and a symbolic link to it are
// refused at once with an error naming the path and what it is.
func TestNotRegular(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "checkpoint.bin")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ path, want string }{
		{dir, "a directory"},
		{"/dev/zero", "a character device"},
		{link, "checkpoint.bin (a symbolic link to /dev/zero)"},
	}
	for _, c := range cases {
		if _, err := os.Stat(c.path); err != nil {
			t.Logf("skipping %s: %v", c.path, err)
			continue
		}
		testfs.Within(t, 5*time.Second, func() {
			_, err := ReadAll(c.path, 1<<30)
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: err = %v, want ErrNotRegular naming %q", c.path, err, c.want)
			}
		})
	}
}

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

// TestSparseFileRejectedByItsHead: a 2 GB sparse file whose first bytes
// are not the magic number is refused after reading those bytes, with no
// more memory than the head.
func TestSparseFileRejectedByItsHead(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sparse")
	if err := testfs.Sparse(p, 2_000_000_000); err != nil {
		t.Skipf("no sparse files here: %v", err)
	}
	bad := errors.New("wrong magic")
	testfs.Within(t, 5*time.Second, func() {
		var err error
		d := testfs.Allocated(func() {
			_, err = ReadHead(p, 1<<31, make([]byte, 8), func(h []byte) error {
				if string(h) != "SGDSCKPT" {
					return bad
				}
				return nil
			})
		})
		if !errors.Is(err, bad) {
			t.Errorf("err = %v, want the head check's error", err)
		}
		// Bound: 1 MiB, against the 2 GB a whole read would allocate.
		if d > 1<<20 {
			t.Errorf("allocated %d bytes to reject a file by its head", d)
		}
	})
	// Under a smaller limit it is refused after its head, before the rest is read.
	if _, err := ReadHead(p, 1<<20, make([]byte, 8), func([]byte) error { return nil }); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestReadHeadShortFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "short")
	os.WriteFile(p, []byte("SGD"), 0o644)
	var seen []byte
	b, err := ReadHead(p, 100, make([]byte, 8), func(h []byte) error { seen = append(seen, h...); return nil })
	if err != nil || string(seen) != "SGD" || string(b) != "SGD" {
		t.Fatalf("head %q, body %q, err %v", seen, b, err)
	}
	p2 := filepath.Join(t.TempDir(), "long")
	os.WriteFile(p2, []byte("SGDSCKPT and the rest"), 0o644)
	b, err = ReadHead(p2, 100, make([]byte, 8), func(h []byte) error { return nil })
	if err != nil || string(b) != "SGDSCKPT and the rest" {
		t.Fatalf("body %q, err %v", b, err)
	}
}

// TestGrowingFile: a file that grows past the limit after it was opened is
// cut off at the limit with ErrTooLarge (Stat is not trusted).
func TestGrowingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "grows")
	os.WriteFile(p, make([]byte, 100), 0o644)
	f, err := Open(p, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 1000))
	w.Close()
	if _, err := readRest(f, nil); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}
