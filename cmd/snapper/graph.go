package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/snapper/snapper/internal/asl"
)

// graph prints the state machine as Mermaid; --readme puts it in README.md.
func graph(args []string, stdout io.Writer) error {
	fs := flags("graph", os.Stderr)
	readme := fs.Bool("readme", false, "replace the mermaid block of README.md")
	if err := parse(fs, args); err != nil {
		return err
	}
	def, err := os.ReadFile("statemachine/snapper.asl.json")
	if err != nil {
		return err
	}
	g, err := asl.Mermaid(def)
	if err != nil {
		return err
	}
	if !*readme {
		fmt.Fprint(stdout, g)
		return nil
	}
	doc, err := os.ReadFile("README.md")
	if err != nil {
		return err
	}
	const open, end = "```mermaid\n", "```"
	i := strings.Index(string(doc), open)
	if i < 0 {
		return fmt.Errorf("README.md has no mermaid block")
	}
	j := strings.Index(string(doc)[i+len(open):], end)
	if j < 0 {
		return fmt.Errorf("README.md's mermaid block is not closed")
	}
	out := string(doc)[:i+len(open)] + g + string(doc)[i+len(open)+j:]
	return os.WriteFile("README.md", []byte(out), 0o644)
}
