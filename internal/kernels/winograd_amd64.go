//go:build amd64 && !noasm

package kernels

// winoInputAVX512 is winoInputGo in AVX-512 assembly (winograd_amd64.s):
// for cg ≥ 1 channels it gathers the 32 patches of a winoTable (base,
// disp, mask) from x and writes V = Bᵀ·d·B to row ch of the 16 packed B
// panels at v + ξ·vstride floats; the caller checks the bounds.
//
//go:noescape
func winoInputAVX512(v, x *float32, base, disp *int32, mask *uint32, cg, hw, vstride int)

// winoOutputAVX512 is winoOutputGo in AVX-512 assembly
// (winograd_amd64.s) for k ≥ 1 channels and groups ≥ 1 groups of 16 tiles
// (groups·16 = ld, the padded tile count): M_ξ[kk][l] is at m + ξ·ms +
// kk·ld + l floats; the caller checks the bounds.
//
//go:noescape
func winoOutputAVX512(s, m, bias *float32, k, groups, ms, ld int)

// winoRowsAVX512 is the input transform of winoInputAVX512 for a segment
// of up to 16 consecutive tiles of one tile row, described by a
// winoRowTable (offs, masks), with masked loads and permutes instead of
// gathers (winograd_amd64.s): for cg ≥ 1 channels it writes V_ξ of the
// tiles whose bit is set in lanes to v + ξ·vstride floats; the caller checks
// the bounds.
//
//go:noescape
func winoRowsAVX512(v, x *float32, offs *int, masks *uint16, cg, hw, vstride, lanes int)
