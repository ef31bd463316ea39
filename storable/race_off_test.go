//go:build !race

package storable

// raceEnabled reports a build with the race detector, whose sync.Pool
// drops items at random.
const raceEnabled = false
