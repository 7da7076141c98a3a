package rules

// catalogue lists every rule. The run order comes from each rule's After
// (see All); the list breaks ties. In effect: hygiene fixes first, then
// the multi-stage split (which shapes the stages), then rules that rewrite
// installs, then additions to the runtime stage, and the non-root user
// last, because it places USER after every RUN the others add.
func catalogue() []*Rule {
	return []*Rule{
		MaintainerLabel,
		InstructionCasing,
		FromAsCasing,
		WorkdirAbsolute,
		AddToCopy,
		BaseImageTag,
		EnvKeyValue,
		ExecForm,
		MultiStage,
		DepsFirst,
		ProdDeps,
		PkgCache,
		CacheMount,
		PythonEnv,
		NodeEnv,
		Healthcheck,
		NonRoot,
		Secrets,
	}
}
