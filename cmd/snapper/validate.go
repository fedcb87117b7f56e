package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/snapper/snapper/internal/asl"
)

// validate checks the definition the template names: it parses, its
// states hang together, and every ${...} it uses is a substitution of the
// template (and every substitution is used).
func validate(args []string, stdout io.Writer) error {
	fs := flags("validate", os.Stderr)
	template := fs.String("template", "template.yaml", "the SAM template")
	if err := parse(fs, args); err != nil {
		return err
	}
	t, err := asl.ReadTemplate(*template)
	if err != nil {
		return err
	}
	defPath := filepath.Join(filepath.Dir(*template), t.DefinitionURI)
	def, err := os.ReadFile(defPath)
	if err != nil {
		return err
	}
	if err := asl.Check(def); err != nil {
		return fmt.Errorf("%s: %w", defPath, err)
	}
	used := asl.Placeholders(string(def))
	for _, p := range used {
		if _, ok := t.Substitutions[p]; !ok {
			return fmt.Errorf("%s uses ${%s}, which %s does not define in DefinitionSubstitutions", defPath, p, *template)
		}
	}
	for name := range t.Substitutions {
		found := false
		for _, p := range used {
			found = found || p == name
		}
		if !found {
			return fmt.Errorf("%s defines substitution %s, which %s never uses", *template, name, defPath)
		}
	}
	fmt.Fprintf(stdout, "%s: ok (%d substitutions)\n", defPath, len(used))
	return nil
}
