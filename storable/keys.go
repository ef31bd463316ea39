package storable

// keyString returns the hash key b as a string. The records of a large
// image repeat the same few keys: once an image has shown many keys, they
// are shared through a small cache instead of copied each time.
func (d *decodeState) keyString(b []byte) string {
	if d.nkeys < 64 || len(b) == 0 || len(b) > 32 {
		d.nkeys++
		return d.mem.CopyString(b)
	}
	x := uint32(len(b)) | uint32(b[0])<<8 | uint32(b[len(b)/2])<<16 | uint32(b[len(b)-1])<<24
	h := x * 0x9e3779b1 >> 24 // Fibonacci hashing: the top 8 bits index the 256 entries
	if s := d.keyCache[h]; s == string(b) {
		return s
	}
	s := d.mem.CopyString(b)
	d.keyCache[h] = s
	d.keyCacheUsed = true
	return s
}
