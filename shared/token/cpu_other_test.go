//go:build !unix

package token_test

import "time"

// processCPU is unavailable here; benchmarks then omit cpu-ns/op.
func processCPU() time.Duration { return 0 }
