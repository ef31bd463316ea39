package perl

import (
	"reflect"
	"slices"
	"strings"
	"sync"
)

// goField is a struct field as FromGo and ToGo see it.
type goField struct {
	name      string // the hash key
	index     []int  // reflect index path, through embedded structs
	omitEmpty bool
	omitZero  bool
}

// goStruct is the cached field list of one struct type under one tag key.
type goStruct struct {
	fields []goField
	byName map[string]int // exact key -> fields index
	byFold map[string]int // lower-cased key -> fields index (first wins)
}

type structKey struct {
	t      reflect.Type
	tagKey string
}

var structCache sync.Map // structKey -> *goStruct

// structInfo returns the fields of struct type t, computed once per type
// and tag key.
func structInfo(t reflect.Type, tagKey string) *goStruct {
	k := structKey{t, tagKey}
	if s, ok := structCache.Load(k); ok {
		return s.(*goStruct)
	}
	s := &goStruct{fields: typeFields(t, tagKey)}
	s.byName = make(map[string]int, len(s.fields))
	s.byFold = make(map[string]int, len(s.fields))
	for i, f := range s.fields {
		s.byName[f.name] = i
		if _, ok := s.byFold[strings.ToLower(f.name)]; !ok {
			s.byFold[strings.ToLower(f.name)] = i
		}
	}
	actual, _ := structCache.LoadOrStore(k, s)
	return actual.(*goStruct)
}

// lookup finds the field for hash key k: the exact name first, then
// ignoring case.
func (s *goStruct) lookup(k string) (*goField, bool) {
	if i, ok := s.byName[k]; ok {
		return &s.fields[i], true
	}
	if i, ok := s.byFold[strings.ToLower(k)]; ok {
		return &s.fields[i], true
	}
	return nil, false
}

// typeFields lists the fields of t the way encoding/json does: exported
// fields by their tag name or Go name, fields of embedded structs without a
// tag name promoted into t, and of several fields with one name the
// shallowest wins (a tagged one among equals), or none when that is still
// ambiguous.
func typeFields(t reflect.Type, tagKey string) []goField {
	type candidate struct {
		goField
		depth  int
		tagged bool
	}
	var all []candidate
	type level struct {
		t     reflect.Type
		index []int
	}
	next := []level{{t: t}}
	visited := map[reflect.Type]bool{}
	for depth := 0; len(next) > 0; depth++ {
		current := next
		next = nil
		for _, l := range current {
			if visited[l.t] {
				continue
			}
			visited[l.t] = true
			for i := range l.t.NumField() {
				sf := l.t.Field(i)
				ft := sf.Type
				if sf.Anonymous {
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get(tagKey)
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				index := append(slices.Clone(l.index), i)
				if sf.Anonymous && name == "" && ft.Kind() == reflect.Struct {
					next = append(next, level{ft, index})
					continue
				}
				f := candidate{goField: goField{name: name, index: index}, depth: depth, tagged: name != ""}
				if name == "" {
					f.name = sf.Name
				}
				for opts != "" {
					var o string
					o, opts, _ = strings.Cut(opts, ",")
					switch o {
					case "omitempty":
						f.omitEmpty = true
					case "omitzero":
						f.omitZero = true
					}
				}
				all = append(all, f)
			}
		}
	}
	// Per name: the shallowest, tagged first; ambiguity drops the name.
	slices.SortStableFunc(all, func(a, b candidate) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if a.depth != b.depth {
			return a.depth - b.depth
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return 0
	})
	var fields []goField
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].name == all[i].name {
			j++
		}
		group := all[i:j]
		if len(group) == 1 || group[1].depth > group[0].depth || group[0].tagged && !group[1].tagged {
			fields = append(fields, group[0].goField)
		}
		i = j
	}
	// Declaration order, as encoding/json writes them.
	slices.SortFunc(fields, func(a, b goField) int { return slices.Compare(a.index, b.index) })
	return fields
}
