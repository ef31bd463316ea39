//go:build purego

package perlmem

const wantBulk = false
