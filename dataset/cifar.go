package dataset

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// CIFAR-10 binary record layout: 1 label byte, then 1024 R, 1024 G and
// 1024 B bytes, each plane 32x32 row-major.
const (
	cifarSide    = 32
	cifarPixels  = 3 * cifarSide * cifarSide
	cifarRecord  = 1 + cifarPixels
	cifarClasses = 10
)

// CIFAR10Classes returns the CIFAR-10 class names in label order
// (batches.meta.txt). The caller owns the returned slice.
func CIFAR10Classes() []string {
	return []string{
		"airplane", "automobile", "bird", "cat", "deer",
		"dog", "frog", "horse", "ship", "truck",
	}
}

// ReadCIFAR10 decodes one CIFAR-10 binary batch (data_batch_N.bin or
// test_batch.bin), gzip-compressed or plain: records of 1 label byte
// (0..9) and 3072 pixel bytes (R, G, B planes of 32x32). Images get shape
// [3,32,32]. It returns a *FormatError if the length is not a whole number
// of records, is empty or a label exceeds 9.
func ReadCIFAR10(r io.Reader) (*Dataset, error) {
	in, err := newInput("", "cifar10", r, -1)
	if err != nil {
		return nil, err
	}
	pix, labels, err := readCIFAR(in, nil, nil)
	if err != nil {
		return nil, err
	}
	return FromUint8(3, cifarSide, cifarSide, pix, labels)
}

// ReadCIFAR10File is ReadCIFAR10 for a file.
func ReadCIFAR10File(path string) (*Dataset, error) {
	return loadCIFARFiles([]string{path})
}

// readCIFAR appends the records of in to pix and labels. The records are
// read in one piece and compacted in place, so the pixels need no second
// buffer.
func readCIFAR(in *input, pix []uint8, labels []int) ([]uint8, []int, error) {
	base := len(pix)
	buf, err := in.readAll(pix, "records")
	if err != nil {
		return nil, nil, err
	}
	n := len(buf) - base
	if n%cifarRecord != 0 {
		return nil, nil, in.errf(nil, "%d bytes is not a whole number of %d-byte records", n, cifarRecord)
	}
	n /= cifarRecord
	if n == 0 {
		return nil, nil, in.errf(nil, "no records")
	}
	for i := 0; i < n; i++ {
		rec := buf[base+i*cifarRecord:]
		if rec[0] >= cifarClasses {
			return nil, nil, in.errf(nil, "record %d: label %d out of range 0..9", i, rec[0])
		}
		labels = append(labels, int(rec[0]))
		// Moves left: the destination ends before the next record's
		// label byte, so no unread byte is overwritten.
		copy(buf[base+i*cifarPixels:base+(i+1)*cifarPixels], rec[1:cifarRecord])
	}
	return buf[:base+n*cifarPixels], labels, nil
}

func loadCIFARFiles(paths []string) (*Dataset, error) {
	var ins []*input
	defer func() {
		for _, in := range ins {
			in.close()
		}
	}()
	var hint int64
	for _, p := range paths {
		in, err := openInput(p, "cifar10")
		if err != nil {
			return nil, err
		}
		ins = append(ins, in)
		if in.hint > 0 {
			hint += in.hint
		}
	}
	// Reserve for all files at once; readAll grows past the hint if needed.
	var pix []uint8
	var labels []int
	if hint > 0 && hint <= int64(maxInt) {
		pix = make([]uint8, 0, hint)
		labels = make([]int, 0, hint/cifarRecord)
	}
	for _, in := range ins {
		var err error
		if pix, labels, err = readCIFAR(in, pix, labels); err != nil {
			return nil, err
		}
	}
	return FromUint8(3, cifarSide, cifarSide, pix, labels)
}

// LoadCIFAR10 loads a split of CIFAR-10 from dir, which holds the binary
// version's files, each plain or gzip-compressed (name.bin or name.bin.gz):
// Test is test_batch.bin; Train is every data_batch_1.bin ..
// data_batch_5.bin present, in order (at least one).
func LoadCIFAR10(dir string, split Split) (*Dataset, error) {
	var names []string
	switch split {
	case Train:
		for i := 1; i <= 5; i++ {
			names = append(names, fmt.Sprintf("data_batch_%d", i))
		}
	case Test:
		names = []string{"test_batch"}
	default:
		return nil, fmt.Errorf("dataset: invalid split %v", split)
	}
	var paths []string
	for _, name := range names {
		p, err := findFile(dir, name+".bin")
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("dataset: no CIFAR-10 %s batch (%s.bin[.gz]) in %s (point cifar10:DIR at the folder of the binary version's data_batch_*.bin and test_batch.bin)", split, names[0], dir)
	}
	return loadCIFARFiles(paths)
}

// findFile returns dir/name if it exists, else dir/name.gz, else an error
// that wraps fs.ErrNotExist.
func findFile(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name), filepath.Join(dir, name+".gz")} {
		_, err := os.Stat(p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("dataset: %w", err)
		}
	}
	return "", fmt.Errorf("dataset: neither %s nor %s.gz in %s: %w", name, name, dir, fs.ErrNotExist)
}
