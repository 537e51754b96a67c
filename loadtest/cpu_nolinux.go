//go:build !linux

package loadtest

import "time"

// pidCPU is unknown off Linux.
func pidCPU(int) time.Duration { return -1 }

// machineCPU is unknown off Linux.
func machineCPU() (busy, total uint64) { return 0, 0 }
