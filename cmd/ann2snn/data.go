package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/importer"
)

// dataFlags are the data-selection flags shared by eval, convert, bench
// and finetune. Their names and meaning are a stable contract for scripts.
//
// Preprocessing rule. A data set holds either pixels (uint8: MNIST,
// Fashion-MNIST, CIFAR-10, IDX, uint8 .npy, image folders) or values
// (every other .npy element type, read as float32). The network input is
// x = (v·scale − mean[c]) / std[c], each of scale, mean and std chosen in
// this order:
//
//   - pixels: the flag (--scale, --mean, --std) if given, else the
//     model's recorded ann2snn.scale / ann2snn.mean / ann2snn.std, else
//     scale 1/255, mean 0, std 1;
//   - values: the flag if given, else scale 1, mean 0, std 1: the data are
//     taken as already preprocessed (what np.save of a normalised tensor
//     holds) and the model's recorded preprocessing, which describes
//     pixels, is not applied. A warning says so when the model records
//     one, and when the values look like 0..255 pixels.
//
// --resize and --crop apply to imagefolder: data only: the flag if given,
// else the model's ann2snn.resize / ann2snn.crop, else none.
type dataFlags struct {
	data   string
	split  string
	limit  int
	batch  int
	scale  string
	mean   string
	std    string
	resize optInt
	crop   optInt

	// warn receives warning lines (the flag set's output: stderr).
	warn io.Writer

	// maxModel is --max-model-size, on the commands that read ONNX files
	// (registerModelLimit).
	maxModel int64

	// fromModel: --data was not given and came from the model's
	// ann2snn.dataset metadata (resolve).
	fromModel bool

	// applied describes what the last load or openFor read and applied;
	// commands print it in their header and --json output.
	applied dataInfo
}

// optInt is an integer flag >= 0 that records whether it was given.
type optInt struct {
	v   int
	set bool
}

func (o *optInt) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.Itoa(o.v)
}

func (o *optInt) Set(s string) error {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < 0 {
		return fmt.Errorf("want an integer >= 0")
	}
	o.v, o.set = v, true
	return nil
}

func (d *dataFlags) register(fs *flag.FlagSet, defaultSplit string) {
	d.warn = fs.Output()
	fs.StringVar(&d.data, "data", "", "data set: mnist | fashion-mnist | cifar10[:DIR] | npy:IMAGES.npy[,LABELS.npy] | idx:IMAGES,LABELS (IDX files, as MNIST's) | imagefolder:DIR (DIR/CLASS/*.png|jpg, torchvision ImageFolder order) (default: the data set recorded in the model's ann2snn.dataset metadata, which convert writes)")
	fs.StringVar(&d.split, "split", defaultSplit, "split of the data set: test | train")
	fs.IntVar(&d.limit, "limit", 0, "use only the first N images (0 = all)")
	fs.IntVar(&d.batch, "batch", 64, "images per batch (at most the number of images)")
	fs.StringVar(&d.scale, "scale", "", "multiplier applied to stored values before --mean/--std, a number or a fraction such as 1/255 (default: for uint8 pixels the model's recorded scale, else 1/255; for float .npy values 1: used as given)")
	fs.StringVar(&d.mean, "mean", "", "per-channel mean a,b,c subtracted after scaling (default: for uint8 pixels the model's recorded preprocessing; for float .npy values none)")
	fs.StringVar(&d.std, "std", "", "per-channel std a,b,c divided after subtracting the mean (default: for uint8 pixels the model's recorded preprocessing; for float .npy values none)")
	fs.Var(&d.resize, "resize", "imagefolder: resize the shorter image side to `N` pixels, Pillow bilinear with antialiasing as torchvision's Resize(N) (default: the model's ann2snn.resize, else none)")
	fs.Var(&d.crop, "crop", "imagefolder: cut the centre `M`×M pixels after resizing, as torchvision's CenterCrop(M) (default: the model's ann2snn.crop, else none)")
}

// registerModelLimit registers --max-model-size on the commands that read
// ONNX files.
func (d *dataFlags) registerModelLimit(fs *flag.FlagSet) {
	fs.Int64Var(&d.maxModel, "max-model-size", importer.DefaultMaxModelBytes, "largest ONNX file read, in `bytes`; larger files, devices, FIFOs and directories are refused")
}

// modelOptions returns the importer options set by --max-model-size.
func (d *dataFlags) modelOptions() importer.Options {
	return importer.Options{MaxModelBytes: d.maxModel}
}

// resolve sets --data, when it was not given, to the data set recorded in
// the model's metadata meta (ann2snn.dataset).
func (d *dataFlags) resolve(meta map[string]string) {
	if strings.TrimSpace(d.data) != "" {
		return
	}
	if v := strings.TrimSpace(meta[dataset.MetaDataset]); v != "" {
		d.data, d.fromModel = v, true
	}
}

// checkFlags checks the flags that need no data.
func (d *dataFlags) checkFlags() error {
	if d.data == "" {
		return &usageError{"--data is required: the model records no data set (ann2snn.dataset); pass mnist, fashion-mnist, cifar10:DIR, npy:IMAGES.npy,LABELS.npy, idx:IMAGES,LABELS or imagefolder:DIR"}
	}
	if d.batch <= 0 {
		return &usageError{fmt.Sprintf("--batch must be positive, got %d", d.batch)}
	}
	if d.maxModel < 0 {
		return &usageError{fmt.Sprintf("--max-model-size must not be negative, got %d", d.maxModel)}
	}
	if d.limit < 0 {
		return &usageError{fmt.Sprintf("--limit must not be negative, got %d", d.limit)}
	}
	if (d.resize.set || d.crop.set) && !d.imageFolder() {
		return &usageError{"--resize and --crop apply to --data imagefolder:DIR only (other data sets hold images of one size already)"}
	}
	return nil
}

// imageFolder reports whether --data names an image folder.
func (d *dataFlags) imageFolder() bool {
	return strings.HasPrefix(strings.TrimSpace(d.data), "imagefolder:")
}

// imageOptions returns the resize and crop for the data: flags, else the
// model's metadata, for image folders; none for other data.
func (d *dataFlags) imageOptions(meta map[string]string) (dataset.ImageOptions, error) {
	if !d.imageFolder() {
		return dataset.ImageOptions{}, nil
	}
	opt, _, err := dataset.ImageOptionsFromMeta(meta)
	if err != nil {
		return opt, badInput(fmt.Errorf("model metadata: %w", err))
	}
	if d.resize.set {
		opt.Resize = d.resize.v
	}
	if d.crop.set {
		opt.Crop = d.crop.v
	}
	return opt, nil
}

// openSplit opens split of the selected data set, resized and cropped as
// the flags or meta say; --limit is not applied.
func (d *dataFlags) openSplit(split dataset.Split, meta map[string]string) (*dataset.Dataset, error) {
	d.resolve(meta)
	if err := d.checkFlags(); err != nil {
		return nil, err
	}
	opt, err := d.imageOptions(meta)
	if err != nil {
		return nil, err
	}
	ds, err := dataset.OpenWith(d.data, split, opt)
	if err != nil {
		return nil, badInput(err)
	}
	return ds, nil
}

// load opens the selected data set (--split, --limit) for a model whose
// recorded preprocessing is meta, chooses the preprocessing by the rule in
// the dataFlags comment, writes any warning to d.warn, and records what it
// did in d.applied.
func (d *dataFlags) load(meta map[string]string) (*dataset.Dataset, dataset.Preprocess, error) {
	d.resolve(meta)
	if err := d.checkFlags(); err != nil {
		return nil, dataset.Preprocess{}, err
	}
	split, err := dataset.ParseSplit(d.split)
	if err != nil {
		return nil, dataset.Preprocess{}, &usageError{err.Error()}
	}
	ds, err := d.openSplit(split, meta)
	if err != nil {
		return nil, dataset.Preprocess{}, err
	}
	if d.limit > 0 && d.limit < ds.Len() {
		ds = ds.First(d.limit)
	}
	// Buffers are sized by the batch: never larger than the images.
	d.batch = max(1, min(d.batch, ds.Len()))
	pre, info, err := d.preprocess(ds, meta)
	if err != nil {
		return nil, pre, err
	}
	info.Images, info.Classes = ds.Len(), ds.NumClasses()
	info.FromModel = d.fromModel
	if opt, _ := d.imageOptions(meta); !opt.IsZero() {
		info.Resize, info.Crop = opt.Resize, opt.Crop
	}
	switch name, _, _ := strings.Cut(strings.TrimSpace(d.data), ":"); name {
	case "mnist", "fashion-mnist", "cifar10":
		info.Split = d.split // user files (npy, idx, imagefolder) have no splits
	}
	d.applied = info
	if d.warn != nil {
		for _, w := range info.Warnings {
			fmt.Fprintf(d.warn, "warning: %s\n", w)
		}
	}
	return ds, pre, nil
}

// preprocess chooses the preprocessing of ds by the rule in the
// dataFlags comment and describes it.
func (d *dataFlags) preprocess(ds *dataset.Dataset, meta map[string]string) (dataset.Preprocess, dataInfo, error) {
	info := dataInfo{Spec: d.data, Values: "pixels"}
	if ds.IsFloat() {
		info.Values = "float"
	}
	recorded, hasRecorded, err := dataset.PreprocessFromMeta(meta)
	if err != nil {
		return dataset.Preprocess{}, info, badInput(fmt.Errorf("model metadata: %w", err))
	}
	var pre dataset.Preprocess
	var from []string
	if info.Values == "pixels" {
		pre.Scale = 1.0 / 255
		if hasRecorded {
			if _, ok := meta[dataset.MetaScale]; ok {
				pre.Scale = recorded.Scale
			}
			pre.Mean, pre.Std = recorded.Mean, recorded.Std
			from = append(from, "model metadata")
		}
	}
	flagged := false
	if d.scale != "" {
		s, err := dataset.ParseScale(d.scale)
		if err != nil {
			return pre, info, &usageError{fmt.Sprintf("--scale: %v", err)}
		}
		pre.Scale, flagged = s, true
	}
	if d.mean != "" {
		m, err := dataset.ParseFloats(d.mean)
		if err != nil {
			return pre, info, &usageError{fmt.Sprintf("--mean: %v", err)}
		}
		pre.Mean, flagged = m, true
	}
	if d.std != "" {
		s, err := dataset.ParseFloats(d.std)
		if err != nil {
			return pre, info, &usageError{fmt.Sprintf("--std: %v", err)}
		}
		pre.Std, flagged = s, true
	}
	if flagged {
		from = append(from, "flags")
	}
	if err := pre.Validate(ds.Shape()[0]); err != nil {
		return pre, info, &usageError{fmt.Sprintf("preprocessing for %s: %v", d.data, err)}
	}
	switch {
	case len(from) > 0:
		info.Source = strings.Join(from, " + ")
	case info.Values == "pixels":
		info.Source = "default for pixels"
	default:
		info.Source = "float values used as given"
	}
	if info.Values == "float" {
		if hasRecorded && !flagged {
			info.Warnings = append(info.Warnings, fmt.Sprintf(
				"%s holds float values, used as given; the model records preprocessing for pixels (%s), not applied: pass --scale/--mean/--std to apply it",
				d.data, describePre(recorded, meta)))
		}
		if lo, hi, ok := ds.FloatRange(); ok && d.scale == "" && lo >= 0 && hi > 2 {
			info.Warnings = append(info.Warnings, fmt.Sprintf(
				"%s holds float values in [%g, %g], used as given (scale 1): if they are 0..255 pixels pass --scale 1/255 (and --mean/--std)",
				d.data, lo, hi))
		}
	}
	info.Scale = pre.Scale
	if info.Scale == 0 {
		info.Scale = 1
	}
	info.Mean, info.Std = pre.Mean, pre.Std
	return pre, info, nil
}

// describePre describes the recorded preprocessing p for a warning.
func describePre(p dataset.Preprocess, meta map[string]string) string {
	var parts []string
	if _, ok := meta[dataset.MetaScale]; ok {
		parts = append(parts, "scale "+formatScale(p.Scale))
	}
	if len(p.Mean) > 0 {
		parts = append(parts, "mean "+joinFloats(p.Mean))
	}
	if len(p.Std) > 0 {
		parts = append(parts, "std "+joinFloats(p.Std))
	}
	return strings.Join(parts, ", ")
}

// openFor opens the selected data set for the model at path, whose input
// has the per-image shape in and whose recorded preprocessing is meta (see
// load). It returns the data set and the preprocessing, or an error naming
// the model when the images do not fit it.
func (d *dataFlags) openFor(path string, in []int, meta map[string]string) (*dataset.Dataset, dataset.Preprocess, error) {
	ds, pre, err := d.load(meta)
	if err != nil {
		return nil, pre, err
	}
	if err := checkShapes(ds, in); err != nil {
		return nil, pre, badInput(fmt.Errorf("%s with %s: %w", path, d.data, err))
	}
	return ds, pre, nil
}

// checkShapes reports whether images of ds fit the model input shape.
func checkShapes(ds *dataset.Dataset, in []int) error {
	if got := ds.Shape(); !slices.Equal(got[:], in) {
		hint := "use --data with the data set the model was made for"
		if ds.FromFiles() {
			hint = "use --resize/--crop to give the images the model's size"
		}
		return fmt.Errorf("images have shape %v, model wants %v (%s)", got, in, hint)
	}
	return nil
}

// dataInfo describes the data a command read and the preprocessing it
// applied: the header line (String) and the "data" object of --json
// output, a stable contract for scripts.
type dataInfo struct {
	Spec string `json:"spec"` // --data
	// FromModel: Spec is the model's ann2snn.dataset (no --data given).
	FromModel bool   `json:"from_model,omitempty"`
	Split     string `json:"split,omitempty"` // named data sets only
	Images    int    `json:"images"`          // after --limit
	Classes   int    `json:"classes"`         // 1 + the largest label; 0 when unlabeled
	// Values is "pixels" (uint8, 0..255) or "float" (other .npy data).
	Values string    `json:"values"`
	Resize int       `json:"resize,omitempty"` // imagefolder: shorter side after resizing
	Crop   int       `json:"crop,omitempty"`   // imagefolder: centre crop side
	Scale  float32   `json:"scale"`
	Mean   []float32 `json:"mean,omitempty"` // none: 0
	Std    []float32 `json:"std,omitempty"`  // none: 1
	// Source says where the preprocessing came from: "model metadata",
	// "flags", "model metadata + flags", "default for pixels" or "float
	// values used as given".
	Source   string   `json:"source"`
	Warnings []string `json:"warnings,omitempty"`
}

// String returns the header line, e.g.
//
//	data imagefolder:/x (1000 images, 10 classes, uint8 pixels) preprocessing: resize 256, crop 224, scale 1/255, mean 0.485,0.456,0.406, std 0.229,0.224,0.225 (flags)
func (i dataInfo) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "data %s (", i.Spec)
	if i.FromModel {
		b.WriteString("from the model's metadata, ")
	}
	if i.Split != "" {
		fmt.Fprintf(&b, "%s, ", i.Split)
	}
	fmt.Fprintf(&b, "%d images, ", i.Images)
	switch i.Classes {
	case 0:
		b.WriteString("unlabeled, ")
	case 1:
		b.WriteString("1 class, ")
	default:
		fmt.Fprintf(&b, "%d classes, ", i.Classes)
	}
	if i.Values == "pixels" {
		b.WriteString("uint8 pixels) preprocessing: ")
	} else {
		b.WriteString("float values) preprocessing: ")
	}
	var parts []string
	if o := (dataset.ImageOptions{Resize: i.Resize, Crop: i.Crop}).String(); o != "" {
		parts = append(parts, o)
	}
	parts = append(parts, "scale "+formatScale(i.Scale))
	if len(i.Mean) > 0 {
		parts = append(parts, "mean "+joinFloats(i.Mean))
	}
	if len(i.Std) > 0 {
		parts = append(parts, "std "+joinFloats(i.Std))
	}
	fmt.Fprintf(&b, "%s (%s)", strings.Join(parts, ", "), i.Source)
	return b.String()
}

// meta returns the ann2snn.* metadata that records, in a model converted
// from a model whose metadata is source, the preprocessing of pixels, so
// that later runs on pixel data apply it again: the applied one for pixel
// data; for float values used as given (which say nothing about pixels)
// source's recorded keys, copied unchanged.
//
// It also records the data set (ann2snn.dataset), its paths made absolute,
// so that eval, bench and finetune need no --data for the converted model.
func (i dataInfo) meta(source map[string]string) map[string]string {
	m := map[string]string{}
	if spec := absDataSpec(i.Spec); spec != "" {
		m[dataset.MetaDataset] = spec
	}
	if i.Values != "pixels" {
		for _, k := range []string{dataset.MetaScale, dataset.MetaMean, dataset.MetaStd, dataset.MetaResize, dataset.MetaCrop} {
			if v, ok := source[k]; ok {
				m[k] = v
			}
		}
		return m
	}
	m[dataset.MetaScale] = strconv.FormatFloat(float64(i.Scale), 'g', -1, 32)
	if len(i.Mean) > 0 {
		m[dataset.MetaMean] = joinFloats(i.Mean)
	}
	if len(i.Std) > 0 {
		m[dataset.MetaStd] = joinFloats(i.Std)
	}
	if i.Resize > 0 {
		m[dataset.MetaResize] = strconv.Itoa(i.Resize)
	}
	if i.Crop > 0 {
		m[dataset.MetaCrop] = strconv.Itoa(i.Crop)
	}
	return m
}

// formatScale writes 1/255 as "1/255" and other scales as the shortest
// float32 decimal.
func formatScale(s float32) string {
	if s == 1.0/255 {
		return "1/255"
	}
	return strconv.FormatFloat(float64(s), 'g', -1, 32)
}

// joinFloats writes v comma-separated, each as the shortest float32
// decimal.
func joinFloats(v []float32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	return strings.Join(s, ",")
}

// absDataSpec returns the --data spec with its file and directory paths
// made absolute (cifar10:DIR, npy:A,B, idx:A,B, imagefolder:DIR, ...), so
// that it names the same data from any working directory. Named sets
// without a path (mnist, cifar10) are returned as they are.
func absDataSpec(spec string) string {
	spec = strings.TrimSpace(spec)
	name, rest, ok := strings.Cut(spec, ":")
	if !ok || rest == "" {
		return spec
	}
	parts := strings.Split(rest, ",")
	for k, p := range parts {
		if p == "" {
			continue
		}
		if a, err := filepath.Abs(p); err == nil {
			parts[k] = a
		}
	}
	return name + ":" + strings.Join(parts, ",")
}
