package snnrt

// MaxRelDiff exposes maxRelDiff to the external test package (real_test.go).
var MaxRelDiff = maxRelDiff
