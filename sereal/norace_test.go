//go:build !race

package sereal

const raceEnabled = false
