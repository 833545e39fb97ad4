// Package apicheck holds tests of the module's public API as a whole; it
// has no code of its own.
//
// TestNoInternalTypes type-checks every public package (those outside
// internal/ and cmd/) from the compiler's export data and fails on any
// exported function, method, variable, constant, field or type whose type
// mentions a type declared in an internal/ package: such a name cannot be
// used by a program outside the module. A type alias declared in a public
// package (snnrt.PoolGeom = kernels.PoolGeom) is allowed: it gives the
// type a public name.
//
// TestExternalModule builds a throwaway module outside this one that
// imports every public package and runs their examples' code, the way a
// user's program would (see external_test.go).
package apicheck
