package loadtest

import "time"

// cpuSample is a reading of the CPU clocks a step's cost is computed from.
type cpuSample struct {
	at      time.Time
	process time.Duration // user+system of this process; -1 unknown
	target  time.Duration // of the target process (pid given); -1 unknown
	// machineBusy and machineTotal are jiffies of the whole machine; zero
	// when unknown.
	machineBusy, machineTotal uint64
}

// cpuMeter reads the clocks: the process's own rusage, a target process's
// /proc/PID/stat and the machine's /proc/stat where the platform has them.
type cpuMeter struct {
	targetPID int
}

func (m cpuMeter) read() cpuSample {
	s := cpuSample{at: time.Now(), process: processCPU(), target: -1}
	if m.targetPID > 0 {
		s.target = pidCPU(m.targetPID)
	}
	s.machineBusy, s.machineTotal = machineCPU()
	return s
}
