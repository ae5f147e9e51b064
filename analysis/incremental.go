package analysis

// reresolve returns the model after one file changed. The model is
// rebuilt from the facts of every file, which needs no parsing.
func reresolve(old, s *Snapshot, before, after *File) *model {
	return resolve(s)
}
