package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ImageExtensions are the file name endings (compared in lower case) that
// LoadImageFolder takes as images: torchvision's IMG_EXTENSIONS. Of netpbm
// files (.ppm, .pgm) only the binary kinds (P5, P6) are decoded.
func ImageExtensions() []string {
	return []string{".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}
}

// maxWalkDepth bounds the directory nesting below a class folder, so that
// a symbolic link loop is an error rather than an endless walk.
const maxWalkDepth = 32

// imageFiles are the images of a Dataset read from files on demand.
type imageFiles struct {
	paths     []string // one per image
	opt       ImageOptions
	maxPixels int // largest image decoded; see maxImagePixels
}

// LoadImageFolder lists the images of a directory laid out as
// torchvision.datasets.ImageFolder expects (root/CLASS/…/IMAGE) and
// returns them as a labeled Dataset of shape [3,H,W] whose pixels are
// decoded from the files on demand, by Batch (see Dataset.Batch). The
// listing is ImageFolder's:
//
//   - the classes are the sub-directories of dir (symbolic links to
//     directories included), sorted by name (byte order); label i is the
//     i-th class;
//   - each class directory is walked recursively, following symbolic
//     links; the directories are visited in sorted order of their full
//     path and the file names sorted within each, as Python's
//     sorted(os.walk(...)) and sorted(fnames) do;
//   - a file is an image when its name ends, in lower case, with one of
//     ImageExtensions.
//
// A class with no image is an error, as it is for torchvision. Images are
// converted to RGB (see toRGB) and transformed by opt. With opt.Crop = 0
// all images must have one size after opt.Resize; LoadImageFolder then
// reads every image header to check it. Files are decoded only when Batch
// reads them, so a data set of any size costs memory for its file names
// only.
func LoadImageFolder(dir string, opt ImageOptions) (*Dataset, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	classes, err := imageClasses(dir)
	if err != nil {
		return nil, err
	}
	var (
		paths  []string
		labels []int
	)
	for label, class := range classes {
		files, err := walkImages(filepath.Join(dir, class), 0)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("dataset: imagefolder %s: class %q has no image file (want names ending in %s): %w",
				dir, class, strings.Join(ImageExtensions(), " "), fs.ErrNotExist)
		}
		for _, f := range files {
			paths = append(paths, f)
			labels = append(labels, label)
		}
	}
	files := &imageFiles{paths: paths, opt: opt, maxPixels: maxImagePixels}
	w, h := opt.Crop, opt.Crop
	if opt.Crop == 0 {
		if w, h, err = files.commonSize(); err != nil {
			return nil, err
		}
	}
	if _, err := checkShape(3, h, w, 3*h*w*len(paths), labels); err != nil {
		return nil, err
	}
	return &Dataset{c: 3, h: h, w: w, n: len(paths), files: files, labels: labels, classes: classes}, nil
}

// imageClasses returns the sorted names of the sub-directories of dir.
func imageClasses(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: imagefolder: %w", err)
	}
	var classes []string
	for _, e := range entries {
		if isDir(filepath.Join(dir, e.Name()), e) {
			classes = append(classes, e.Name())
		}
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("dataset: imagefolder %s: no class sub-directory: %w", dir, fs.ErrNotExist)
	}
	slices.Sort(classes)
	return classes, nil
}

// isDir reports whether the entry e at path is a directory or a symbolic
// link to one (Python's DirEntry.is_dir()).
func isDir(path string, e fs.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// walkImages returns the image files below dir in the order of Python's
//
//	for root, _, fnames in sorted(os.walk(dir, followlinks=True)):
//	    for fname in sorted(fnames): ...
//
// that is, directories sorted by full path, then names within each.
func walkImages(dir string, depth int) ([]string, error) {
	type group struct {
		root  string
		files []string
	}
	var groups []group
	var walk func(root string, depth int) error
	walk = func(root string, depth int) error {
		if depth > maxWalkDepth {
			return fmt.Errorf("dataset: imagefolder: %s: directories nested more than %d deep (a symbolic link loop?)", root, maxWalkDepth)
		}
		entries, err := os.ReadDir(root)
		if err != nil {
			return fmt.Errorf("dataset: imagefolder: %w", err)
		}
		g := group{root: root}
		var subdirs []string
		for _, e := range entries {
			p := filepath.Join(root, e.Name())
			if isDir(p, e) {
				subdirs = append(subdirs, p)
				continue
			}
			if hasImageExtension(e.Name()) {
				g.files = append(g.files, e.Name())
			}
		}
		groups = append(groups, g)
		for _, s := range subdirs {
			if err := walk(s, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(dir, depth); err != nil {
		return nil, err
	}
	slices.SortFunc(groups, func(a, b group) int { return strings.Compare(a.root, b.root) })
	var out []string
	for _, g := range groups {
		slices.Sort(g.files)
		for _, f := range g.files {
			out = append(out, filepath.Join(g.root, f))
		}
	}
	return out, nil
}

// hasImageExtension reports whether name ends, in lower case, with one of
// ImageExtensions.
func hasImageExtension(name string) bool {
	lower := strings.ToLower(name)
	for _, ext := range ImageExtensions() {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

// commonSize reads every image header and returns the size all images
// have after f.opt, or an error naming the first image that differs from
// the first one.
func (f *imageFiles) commonSize() (w, h int, err error) {
	for i, p := range f.paths {
		iw, ih, err := imageConfigFile(p)
		if err != nil {
			return 0, 0, err
		}
		iw, ih = f.opt.outSize(iw, ih)
		if i == 0 {
			w, h = iw, ih
			continue
		}
		if iw != w || ih != h {
			return 0, 0, fmt.Errorf("dataset: imagefolder: %s is %d×%d but %s is %d×%d%s (use a centre crop: --crop)",
				p, iw, ih, f.paths[0], w, h, f.opt.sizeNote())
		}
	}
	return w, h, nil
}

// sizeNote says, for an error message, that sizes are after resizing.
func (o ImageOptions) sizeNote() string {
	if o.Resize > 0 {
		return fmt.Sprintf(" after resize %d", o.Resize)
	}
	return ""
}

// maxImageFileBytes bounds the size of one image file.
const maxImageFileBytes = 1 << 30

// readImageFile reads an image file into memory.
func readImageFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("dataset: %s is not a regular file", path)
	}
	if st.Size() > maxImageFileBytes {
		return nil, formatErr(path, "image", nil, "%d bytes is more than the %d allowed for one image", st.Size(), maxImageFileBytes)
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(fh, b); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, formatErr(path, "image", nil, "file shrank while being read")
		}
		return nil, fmt.Errorf("dataset: reading %s: %w", path, err)
	}
	return b, nil
}

// imageConfigFile reads the width and height of an image file from its
// header, reading no more of the file than the decoder needs.
func imageConfigFile(path string) (w, h int, err error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("dataset: %w", err)
	}
	defer fh.Close()
	return imageConfig(path, bufio.NewReader(fh))
}

// load decodes image i into dst as CHW uint8 (len(dst) == 3*h*w), or
// returns an error naming the file.
func (f *imageFiles) load(dst []uint8, i, w, h int) error {
	p := f.paths[i]
	b, err := readImageFile(p)
	if err != nil {
		return err
	}
	img, err := decodeRGB(p, b, f.maxPixels)
	if err != nil {
		return err
	}
	img = f.opt.apply(img)
	if img.w != w || img.h != h {
		return fmt.Errorf("dataset: imagefolder: %s is %d×%d%s, the data set's images are %d×%d (use a centre crop: --crop)",
			p, img.w, img.h, f.opt.sizeNote(), w, h)
	}
	plane := w * h
	for j := range plane {
		dst[j] = img.pix[3*j]
		dst[plane+j] = img.pix[3*j+1]
		dst[2*plane+j] = img.pix[3*j+2]
	}
	return nil
}
