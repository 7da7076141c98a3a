package rules

// catalogue lists every rule in the order they run. Structural rules come
// first, then rules that rewrite single instructions, then additions.
func catalogue() []*Rule {
	return []*Rule{
		EnvKeyValue,
		ExecForm,
		PkgCache,
	}
}
