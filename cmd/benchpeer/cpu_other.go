//go:build !unix

package main

import "time"

// processCPU is unavailable here; the report then uses wall time.
func processCPU() time.Duration { return 0 }
