// Package workloads holds the workload model — per phase, an ordered map from
// function name to per-second request counts — its JSON codec (upstream
// gen_trace.py's format), the generators W1, W2, func, azure and huawei, the
// minute-to-second splitters, the steady streams, and the function catalog
// (catalog.yaml, embedded).
//
// Make is the one entry point of the commands (gen, run, reproduce): from a
// Spec (kind or steady stream, dataset path, seed, iter) it returns the
// workload and its Provenance (seed, dataset files and their sha256, or the
// built-in synthetic sample).
//
// Generators are pure functions of their inputs and seed: they read rows
// through traces/azure and traces/huawei and draw randomness from
// internal/pyrand, and they print nothing and write no file.
//
// It may import traces/* and internal/pyrand.
package workloads
