package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/composeopt/composeopt/migrate"
	"github.com/composeopt/composeopt/migrate/changeset"
	"github.com/composeopt/composeopt/migrate/report"
	"github.com/composeopt/composeopt/migrate/safefs"
)

// gitRepo runs the git command in a work tree. The user's configuration,
// hooks and signing apply, as when they run git themselves.
type gitRepo struct {
	ctx context.Context
	// dir is where git runs: the project directory. Pathspecs are relative
	// to it.
	dir string
	// stderr receives the output of commands the user should see (hooks).
	stderr io.Writer
}

// gitError is a failed git command with what it printed.
type gitError struct {
	args   []string
	err    error
	stderr string
}

func (e *gitError) Error() string {
	msg := fmt.Sprintf("git %s: %v", strings.Join(e.args, " "), e.err)
	if s := strings.TrimSpace(e.stderr); s != "" {
		msg += ": " + s
	}
	return msg
}

func (e *gitError) Unwrap() error { return e.err }

// exitCode returns git's exit status, or -1 when it did not run.
func (e *gitError) exitCode() int {
	var ee *exec.ExitError
	if errors.As(e.err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// openRepo finds the git work tree that contains dir.
func openRepo(ctx context.Context, dir string, stderr io.Writer) (*gitRepo, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, fmt.Errorf("--branch needs the git command: %w", err)
	}
	r := &gitRepo{ctx: ctx, dir: dir, stderr: stderr}
	out, err := r.output(nil, "rev-parse", "--is-inside-work-tree")
	if err != nil || strings.TrimSpace(out) != "true" {
		return nil, fmt.Errorf("--branch: %s is not inside a git work tree", dir)
	}
	return r, nil
}

// run runs git with stdin, returning its standard output. When tee is
// true, standard error also goes to r.stderr as it is produced.
func (r *gitRepo) run(stdin []byte, tee bool, args ...string) (string, error) {
	full := append([]string{"--literal-pathspecs"}, args...)
	cmd := exec.CommandContext(r.ctx, "git", full...)
	cmd.Dir = r.dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if tee && r.stderr != nil {
		cmd.Stderr = io.MultiWriter(&errb, r.stderr)
	}
	if err := cmd.Run(); err != nil {
		return out.String(), &gitError{args: args, err: err, stderr: errb.String()}
	}
	return out.String(), nil
}

func (r *gitRepo) output(stdin []byte, args ...string) (string, error) {
	return r.run(stdin, false, args...)
}

// succeeds runs a query whose exit status 1 means "no" and returns false
// for it; other failures are errors.
func (r *gitRepo) succeeds(args ...string) (bool, error) {
	_, err := r.output(nil, args...)
	var ge *gitError
	if errors.As(err, &ge) && ge.exitCode() == 1 {
		return false, nil
	}
	return err == nil, err
}

// pathspecs returns the files as paths relative to the project directory.
func (r *gitRepo) pathspecs(files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		if rel, err := filepath.Rel(r.dir, f); err == nil {
			f = rel
		}
		out[i] = filepath.ToSlash(f)
	}
	return out
}

// preflight checks, changing nothing, that the branch can be created and
// that none of the files has changes git does not have in HEAD.
func (r *gitRepo) preflight(branch string, files []string) error {
	if _, err := r.output(nil, "check-ref-format", "--branch", branch); err != nil {
		return fmt.Errorf("--branch %q is not a valid branch name", branch)
	}
	if ok, err := r.succeeds("rev-parse", "--quiet", "--verify", "HEAD^{commit}"); err != nil {
		return err
	} else if !ok {
		return errors.New("--branch: the repository has no commit yet to branch from")
	}
	if ok, err := r.succeeds("show-ref", "--verify", "--quiet", "refs/heads/"+branch); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("--branch: branch %s already exists; pick another name or delete it (git branch -D %s)", branch, branch)
	}
	for _, ref := range []string{"MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD"} {
		if ok, err := r.succeeds("rev-parse", "--quiet", "--verify", ref); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("--branch: a %s is in progress (%s exists); finish or abort it first",
				strings.ToLower(strings.ReplaceAll(strings.TrimSuffix(ref, "_HEAD"), "_", "-")), ref)
		}
	}
	specs := r.pathspecs(files)
	out, err := r.output(nil, append([]string{"status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored=matching", "--"}, specs...)...)
	if err != nil {
		return fmt.Errorf("--branch: checking the files for uncommitted changes: %w", err)
	}
	if dirty := porcelainPaths(out); len(dirty) > 0 {
		return fmt.Errorf("--branch: nothing was changed: these files would be written but have uncommitted changes (commit, stash or remove them first):\n  %s",
			strings.Join(dirty, "\n  "))
	}
	return nil
}

// porcelainPaths returns the paths of `git status --porcelain=v1 -z`
// output, each with its two-letter status.
func porcelainPaths(out string) []string {
	var paths []string
	fields := strings.Split(out, "\x00")
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if len(f) < 4 {
			continue
		}
		xy, p := f[:2], f[3:]
		paths = append(paths, fmt.Sprintf("%s (%s)", p, describeStatus(xy)))
		if xy[0] == 'R' || xy[0] == 'C' {
			i++ // the rename's source follows
		}
	}
	return paths
}

// describeStatus says in words what a porcelain XY status means.
func describeStatus(xy string) string {
	switch xy {
	case "??":
		return "untracked"
	case "!!":
		return "ignored, not committed"
	case "DD", "AU", "UD", "UA", "DU", "AA", "UU":
		return "unmerged"
	}
	var parts []string
	if xy[0] != ' ' {
		parts = append(parts, "staged")
	}
	switch xy[1] {
	case 'M', 'T':
		parts = append(parts, "modified")
	case 'D':
		parts = append(parts, "deleted")
	}
	if len(parts) == 0 {
		return strings.TrimSpace(xy)
	}
	return strings.Join(parts, ", ")
}

// head returns how to get back to the current HEAD: the branch name, or
// the commit when detached.
func (r *gitRepo) head() (ref string, detached bool, err error) {
	out, err := r.output(nil, "symbolic-ref", "--quiet", "--short", "HEAD")
	if err == nil {
		return strings.TrimSpace(out), false, nil
	}
	out, err = r.output(nil, "rev-parse", "--verify", "HEAD")
	if err != nil {
		return "", false, err
	}
	return strings.TrimSpace(out), true, nil
}

// createBranch creates branch at HEAD and checks it out; uncommitted
// changes stay in the work tree and index, as with git checkout -b.
func (r *gitRepo) createBranch(branch string) error {
	if _, err := r.output(nil, "checkout", "--quiet", "-b", branch); err != nil {
		return fmt.Errorf("creating branch %s: %w", branch, err)
	}
	return nil
}

// undoBranch checks out the previous HEAD again and deletes branch, which
// must still point at the same commit.
func (r *gitRepo) undoBranch(branch, prev string, detached bool) error {
	args := []string{"checkout", "--quiet", prev, "--"}
	if detached {
		args = []string{"checkout", "--quiet", "--detach", prev, "--"}
	}
	if _, err := r.output(nil, args...); err != nil {
		return fmt.Errorf("checking out %s again: %w", prev, err)
	}
	if _, err := r.output(nil, "branch", "--delete", "--force", branch); err != nil {
		return fmt.Errorf("deleting branch %s: %w", branch, err)
	}
	return nil
}

// commit records exactly the files (and none of the other staged or
// unstaged changes) in a new commit, and returns its abbreviated hash.
func (r *gitRepo) commit(message string, files []string) (string, error) {
	specs := r.pathspecs(files)
	// New files must be known to the index for a commit with pathspecs;
	// --force because the change set must be committed whole even when a
	// .gitignore pattern matches one of its files.
	if _, err := r.run(nil, true, append([]string{"add", "--force", "--"}, specs...)...); err != nil {
		return "", err
	}
	// --only commits the named paths as they are in the work tree and
	// leaves whatever else is staged staged, uncommitted.
	if _, err := r.run([]byte(message), true, append([]string{"commit", "--quiet", "--only", "--file=-", "--"}, specs...)...); err != nil {
		return "", err
	}
	out, err := r.output(nil, "rev-parse", "--short", "HEAD")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out), nil
}

// commitFailed explains the state after the change set was written on a
// new branch but the commit failed, and how to finish or undo.
func commitFailed(err error, branch, prev string, specs []string, created map[string]bool) error {
	var modified, added []string
	for _, s := range specs {
		if created[s] {
			added = append(added, s)
		} else {
			modified = append(modified, s)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the commit failed: %v\n", err)
	fmt.Fprintf(&b, "State: branch %s is checked out (created from %s, no new commit); the change set is written and its files are staged.\n", branch, prev)
	fmt.Fprintf(&b, "To finish, fix the cause and run:\n  git commit --only -- %s\n", strings.Join(quoteAll(specs), " "))
	b.WriteString("To undo instead, run:\n")
	b.WriteString("  git reset --quiet -- " + strings.Join(quoteAll(specs), " ") + "\n")
	if len(modified) > 0 {
		b.WriteString("  git checkout -- " + strings.Join(quoteAll(modified), " ") + "\n")
	}
	if len(added) > 0 {
		b.WriteString("  rm -- " + strings.Join(quoteAll(added), " ") + "\n")
	}
	fmt.Fprintf(&b, "  git checkout %s && git branch -D %s", prev, branch)
	return errors.New(b.String())
}

// quoteAll quotes paths for a POSIX shell when they need it.
func quoteAll(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		if strings.ContainsAny(p, " \t\n'\"\\$`*?[]#~;&|<>(){}!") {
			p = "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
		}
		out[i] = p
	}
	return out
}

// applyOptions are apply's review flags.
type applyOptions struct {
	prBody        string
	verifyJSON    string
	branch        string
	commitMessage string
}

func (o *applyOptions) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.prBody, "pr-body", "", "Also write a pull-request description in Markdown to `FILE` (\"-\" = standard output)")
	fs.StringVar(&o.verifyJSON, "verify-json", "", "Verify results `FILE` (a JSON array, as composeopt verify --json writes) to show in the --pr-body table")
	fs.StringVar(&o.branch, "branch", "", "Create branch `NAME` from HEAD and commit exactly the change set's files on it")
	fs.StringVar(&o.commitMessage, "commit-message", "", "Commit message `MSG` for --branch (default: a title, the summary and one line per build)")
}

// validate checks the flags before anything is computed.
func (o *applyOptions) validate() error {
	if o.commitMessage != "" && o.branch == "" {
		return errors.New("--commit-message needs --branch")
	}
	if o.verifyJSON != "" && o.prBody == "" {
		return errors.New("--verify-json needs --pr-body (it only adds columns to the pull-request table)")
	}
	return checkWritableDir("--pr-body", o.prBody)
}

// applyPlan writes the change set and, as the flags ask, creates a branch
// and commits the change set on it, and writes the pull-request body. With
// --branch, every check runs before anything changes: a refusal leaves the
// repository and the files as they were.
func applyPlan(cmd *cobra.Command, plan *migrate.Plan, o *applyOptions, st *changeset.State) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	verify, err := readVerify(o.verifyJSON, cmd.InOrStdin())
	if err != nil {
		return err
	}
	doc := report.New(plan)
	changed := plan.Changes.Changed()
	files := make([]string, len(changed))
	for i, f := range changed {
		files[i] = f.Path
	}
	// With --pr-body -, standard output carries the Markdown only.
	progress := stdout
	if o.prBody == "-" {
		progress = stderr
	}

	var repo *gitRepo
	var prev string
	var detached bool
	if o.branch != "" {
		if len(changed) == 0 {
			fmt.Fprintf(stderr, "Nothing to commit: branch %s was not created.\n", o.branch)
			return nil
		}
		if repo, err = openRepo(cmd.Context(), plan.Project.Dir, stderr); err != nil {
			return err
		}
		if err := repo.preflight(o.branch, files); err != nil {
			return err
		}
		if prev, detached, err = repo.head(); err != nil {
			return fmt.Errorf("--branch: reading HEAD: %w", err)
		}
		if err := repo.createBranch(o.branch); err != nil {
			return fmt.Errorf("--branch: nothing was changed: %w", err)
		}
	}

	written, err := plan.Changes.Apply(changeset.ApplyOptions{State: st, Context: cmd.Context(), Step: testStepHook()})
	if err != nil {
		err = fmt.Errorf("nothing was written: %w", err)
		if repo != nil {
			if uerr := repo.undoBranch(o.branch, prev, detached); uerr != nil {
				return fmt.Errorf("%w\nand branch %s could not be removed again (%v); remove it by hand: git checkout %s && git branch -D %s",
					err, o.branch, uerr, prev, o.branch)
			}
			err = fmt.Errorf("%w (branch %s was removed again)", err, o.branch)
		}
		return err
	}
	for _, p := range written {
		fmt.Fprintf(progress, "wrote %s\n", safefs.Rel(plan.Project.Dir, p))
	}

	// The description is written before the commit: after the apply, a new
	// plan has nothing left to describe.
	var bodyErr error
	if o.prBody != "" {
		body := doc.Markdown(report.MarkdownOptions{Verify: verify})
		if o.prBody == "-" {
			_, bodyErr = stdout.Write(body)
		} else if bodyErr = writeFileAtomic(o.prBody, body); bodyErr == nil {
			fmt.Fprintf(progress, "wrote %s (pull-request description)\n", o.prBody)
		}
		if bodyErr != nil {
			bodyErr = fmt.Errorf("the change set was written, but not the pull-request description: %w", bodyErr)
		}
	}

	if repo != nil {
		msg := o.commitMessage
		if msg == "" {
			msg = doc.CommitMessage()
		}
		hash, err := repo.commit(msg, files)
		if err != nil {
			created := map[string]bool{}
			for _, f := range changed {
				if !f.Exists {
					created[repo.pathspecs([]string{f.Path})[0]] = true
				}
			}
			return errors.Join(commitFailed(err, o.branch, prev, repo.pathspecs(files), created), bodyErr)
		}
		fmt.Fprintf(progress, "committed %s on new branch %s (%d files)\n", hash, o.branch, len(files))
	}
	return bodyErr
}
