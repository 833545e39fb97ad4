package kernels

import "math"

// maxTableBytes bounds the memory of a Conv's precomputed panel tables.
const maxTableBytes = 1 << 20

// maxTableRuns is the most output-row runs a stride-1 panel may have to be
// filled by masked loads from its table (one pair of loads per run and
// tap) rather than by gathers.
const maxTableRuns = 4

// panelTable is the fill table of one full im2col panel (nr lanes): the
// table that fillGather or fillMasked would compute for it, with offsets
// counted from channel c0 of the panel's first image, so that it serves
// every panel that starts at the same output pixel of an image.
type panelTable struct {
	taps   int
	gather bool     // a fillGather table (else masked loads)
	runs   int      // masked loads per tap: 2 (fillMasked's table) or up to maxTableRuns
	offs32 []int32  // gather: taps·nr input offsets
	offs   []int    // masked: runs·taps offsets of lane 0
	masks  []uint32 // gather: taps lane masks; masked: runs·taps
}

// segments splits the used columns j..j+used-1 (output pixels counted
// across the batch) of a panel into runs along output rows, with input
// offsets counted from xoff0, the offset of channel c0 of the image of
// column j; it returns the number of runs.
func (c *Conv) segments(segs *[nr]segment, j, used, xoff0 int) int {
	g := c.g
	p, hw := c.oh*c.ow, g.H*g.W
	ns := 0
	img, pix := 0, j%p
	oy, ox := pix/c.ow, pix%c.ow
	for lane := 0; lane < used; {
		l := min(c.ow-ox, used-lane)
		segs[ns] = segment{lane: lane, n: l, xoff: xoff0 + img*g.C*hw,
			iy0: oy*g.StrideH - g.PadT, ix0: ox*g.StrideW - g.PadL}
		ns++
		lane += l
		ox = 0
		if oy++; oy == c.oh {
			oy, img = 0, img+1
		}
	}
	return ns
}

// newPanelTables precomputes, when the CPU has AVX-512 and the tables fit
// in maxTableBytes, the fill tables of the full nr-lane panels im2col
// fills for Forward: their first columns are multiples of nr, so their
// first pixels within an image are the multiples of gcd(p, nr) below p
// (p output pixels per image), tableStep apart. im2col then fills such a
// panel from its table, with the same loads, instead of recomputing the
// table from the panel's runs; the values written are the same.
func (c *Conv) newPanelTables() {
	g := c.g
	taps := g.KH * g.KW
	if c.depthwise || !haveAVX512Kernel() || taps > maxGatherTaps {
		return
	}
	p := c.oh * c.ow
	step := gcd(p, nr)
	count := p / step
	if count*taps*(nr*4+4) > maxTableBytes {
		return
	}
	tables := make([]panelTable, count)
	var segs [nr]segment
	for i := range tables {
		ns := c.segments(&segs, i*step, nr, 0)
		t := &tables[i]
		if g.StrideW == 1 && ns != 2 && ns <= maxTableRuns {
			// Masked loads of each run beat gathers of each lane; a
			// single run (a whole output row) needs one pair per tap, not
			// fillMasked's two.
			t.taps, t.runs = taps, ns
			t.offs = make([]int, taps*ns)
			t.masks = make([]uint32, taps*ns)
			c.runsTable(t.offs, t.masks, segs[:ns])
			continue
		}
		if ns > 2 || g.StrideW != 1 {
			var offs [maxGatherTaps * nr]int
			var mask [maxGatherTaps]uint32
			t.taps = c.gatherTable(&offs, &mask, segs[:ns])
			t.gather = true
			t.offs32 = make([]int32, t.taps*nr)
			for k := range t.offs32 {
				if offs[k] > math.MaxInt32 {
					return // too large an image for 32-bit offsets: no tables
				}
				t.offs32[k] = int32(offs[k])
			}
			t.masks = append([]uint32(nil), mask[:t.taps]...)
			continue
		}
		var offs [2 * maxGatherTaps]int
		var masks [2 * maxGatherTaps]uint32
		t.taps, t.runs = c.maskedTable(&offs, &masks, segs[:ns]), 2
		t.offs = append([]int(nil), offs[:2*t.taps]...)
		t.masks = append([]uint32(nil), masks[:2*t.taps]...)
	}
	c.tables, c.tableStep = tables, step
}

// fill fills the full panel (rows of nr lanes, cg channels) from x, which
// starts at channel c0 of the panel's first image, and reports whether it
// did (false: a table without taps, which im2col handles itself).
func (t *panelTable) fill(panel, x []float32, cg, hw int) bool {
	if t.taps == 0 {
		return false
	}
	_ = panel[cg*t.taps*nr-1]
	if t.gather {
		if len(x) > math.MaxInt32 {
			return false
		}
		gatherPanelAVX512(&panel[0], &x[0], &t.offs32[0], &t.masks[0], t.taps, cg, hw)
		return true
	}
	_ = x[len(x)-1]
	if t.runs == 2 {
		im2colMaskedAVX512(&panel[0], &x[0], &t.offs[0], &t.masks[0], 2*t.taps, cg, hw)
		return true
	}
	im2colRunsAVX512(&panel[0], &x[0], &t.offs[0], &t.masks[0], t.runs*t.taps, t.runs, cg, hw)
	return true
}

// runsTable writes the masked-load table of the stride-1 runs segs into
// offs and masks (len(segs) entries per tap, in tap order): for tap t and
// run s, the offset of lane 0 (lane l reads x[offs + l]) and the mask of
// the run's lanes that read inside the image, as fillMasked tabulates
// them; a run wholly in padding has mask 0.
func (c *Conv) runsTable(offs []int, masks []uint32, segs []segment) {
	g := c.g
	e := 0
	for ky := 0; ky < g.KH; ky++ {
		for kx := 0; kx < g.KW; kx++ {
			for _, s := range segs {
				iy := s.iy0 + ky*g.DilH
				ix := s.ix0 + kx*g.DilW // input column of lane s.lane
				lo, hi := max(s.lane, s.lane-ix), min(s.lane+s.n, s.lane+g.W-ix)
				if uint(iy) < uint(g.H) && lo < hi {
					masks[e] = uint32(uint64(1)<<hi - uint64(1)<<lo)
					offs[e] = s.xoff + iy*g.W + ix - s.lane
				}
				e++
			}
		}
	}
}

// gcd returns the greatest common divisor of a and b (both positive).
func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
