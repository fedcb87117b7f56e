// Package asl reads the state machine definition and template.yaml's
// DefinitionSubstitutions, checks that the definition hangs together, and
// resolves the substitutions, so that local runs use the very file AWS runs.
package asl

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Substitution is one DefinitionSubstitutions value of the template: a
// !GetAtt Resource.Attr, a !Ref Resource, or a plain string.
type Substitution struct {
	Kind     string // "GetAtt", "Ref" or "Literal"
	Resource string
	Attr     string
	Literal  string
}

// Template is what local mode needs of template.yaml.
type Template struct {
	DefinitionURI string
	Substitutions map[string]Substitution
	// Resources maps each logical id to its CloudFormation type.
	Resources map[string]string
	// FunctionTimeouts maps each function's logical id to its timeout,
	// and FunctionMemoryMB to its memory size (the benchmark's cost).
	FunctionTimeouts map[string]time.Duration
	FunctionMemoryMB map[string]int
}

// functionSettings are the properties of a function local mode reads; the
// Globals section gives the same keys.
type functionSettings struct {
	Timeout    int `yaml:"Timeout"`
	MemorySize int `yaml:"MemorySize"`
}

// ReadTemplate reads the (single) AWS::Serverless::StateMachine of a SAM template.
func ReadTemplate(path string) (Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Template{}, err
	}
	var doc struct {
		Globals struct {
			Function functionSettings `yaml:"Function"`
		} `yaml:"Globals"`
		Resources map[string]struct {
			Type       string    `yaml:"Type"`
			Properties yaml.Node `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return Template{}, fmt.Errorf("%s: %w", path, err)
	}
	t := Template{Resources: map[string]string{}, Substitutions: map[string]Substitution{}, FunctionTimeouts: map[string]time.Duration{}, FunctionMemoryMB: map[string]int{}}
	found := 0
	for id, res := range doc.Resources {
		t.Resources[id] = res.Type
		if res.Type == "AWS::Serverless::Function" {
			var fn functionSettings
			if err := res.Properties.Decode(&fn); err != nil {
				return Template{}, fmt.Errorf("%s: %s: %w", path, id, err)
			}
			t.FunctionTimeouts[id] = time.Duration(cmp.Or(fn.Timeout, doc.Globals.Function.Timeout, 3)) * time.Second
			t.FunctionMemoryMB[id] = cmp.Or(fn.MemorySize, doc.Globals.Function.MemorySize, 128)
		}
		if res.Type != "AWS::Serverless::StateMachine" {
			continue
		}
		found++
		var props struct {
			DefinitionURI string               `yaml:"DefinitionUri"`
			Substitutions map[string]yaml.Node `yaml:"DefinitionSubstitutions"`
		}
		if err := res.Properties.Decode(&props); err != nil {
			return Template{}, fmt.Errorf("%s: %s: %w", path, id, err)
		}
		t.DefinitionURI = props.DefinitionURI
		for name, node := range props.Substitutions {
			s, err := substitution(node)
			if err != nil {
				return Template{}, fmt.Errorf("%s: %s: DefinitionSubstitutions.%s: %w", path, id, name, err)
			}
			t.Substitutions[name] = s
		}
	}
	if found != 1 {
		return Template{}, fmt.Errorf("%s: want one AWS::Serverless::StateMachine, found %d", path, found)
	}
	return t, nil
}

func substitution(n yaml.Node) (Substitution, error) {
	switch n.Tag {
	case "!GetAtt":
		res, attr, ok := strings.Cut(n.Value, ".")
		if !ok {
			return Substitution{}, fmt.Errorf("!GetAtt %q is not Resource.Attribute", n.Value)
		}
		return Substitution{Kind: "GetAtt", Resource: res, Attr: attr}, nil
	case "!Ref":
		return Substitution{Kind: "Ref", Resource: n.Value}, nil
	case "!!str", "":
		return Substitution{Kind: "Literal", Literal: n.Value}, nil
	}
	return Substitution{}, fmt.Errorf("unsupported value %s %q", n.Tag, n.Value)
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// Placeholders lists the ${Name} substitutions a definition uses.
func Placeholders(def string) []string {
	seen := map[string]bool{}
	var names []string
	for _, m := range placeholder.FindAllStringSubmatch(def, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			names = append(names, m[1])
		}
	}
	sort.Strings(names)
	return names
}

// Resolve replaces every ${Name} with its value; a name without a value is an error.
func Resolve(def string, values map[string]string) (string, error) {
	var missing []string
	out := placeholder.ReplaceAllStringFunc(def, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("no value for substitution(s) %v", missing)
	}
	return out, nil
}

// Check verifies that a definition parses, that StartAt and every Next,
// Default and Catch target names a state of its own scope, that every
// non-terminal state has a way on, and that every state is reachable.
func Check(def []byte) error {
	var root map[string]any
	if err := json.Unmarshal(def, &root); err != nil {
		return fmt.Errorf("definition is not JSON: %w", err)
	}
	return checkScope("", root)
}

func checkScope(scope string, m map[string]any) error {
	states, ok := m["States"].(map[string]any)
	if !ok || len(states) == 0 {
		return fmt.Errorf("%sno States", scope)
	}
	start, _ := m["StartAt"].(string)
	if _, ok := states[start]; !ok {
		return fmt.Errorf("%sStartAt %q names no state", scope, start)
	}
	c := scopeChecker{scope: scope, states: states}
	edges := map[string][]string{}
	for name, raw := range states {
		targets, err := c.checkState(name, raw)
		if err != nil {
			return err
		}
		edges[name] = targets
	}
	reached := reachable(start, edges)
	for name := range states {
		if !reached[name] {
			return fmt.Errorf("%sstate %q cannot be reached", scope, name)
		}
	}
	return nil
}

// scopeChecker checks the states of one States block: the definition's,
// or a Map's or Parallel's nested one.
type scopeChecker struct {
	scope  string // the path of enclosing states, to prefix errors with
	states map[string]any
}

// checkState checks one state and its nested scopes, and returns the
// states it can go to.
func (c scopeChecker) checkState(name string, raw any) ([]string, error) {
	st, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%sstate %q is not an object", c.scope, name)
	}
	targets := targetsOf(st)
	for _, t := range targets {
		if _, ok := c.states[t]; !ok {
			return nil, fmt.Errorf("%sstate %q goes to %q, which is not a state", c.scope, name, t)
		}
	}
	if err := c.checkWayOn(name, st, targets); err != nil {
		return nil, err
	}
	for _, sub := range subScopes(st) {
		if err := checkScope(c.scope+name+" > ", sub); err != nil {
			return nil, err
		}
	}
	return targets, nil
}

// checkWayOn checks that a state either ends the execution or goes on,
// as its Type requires.
func (c scopeChecker) checkWayOn(name string, st map[string]any, targets []string) error {
	typ, _ := st["Type"].(string)
	end, _ := st["End"].(bool)
	_, hasNext := st["Next"]
	switch typ {
	case "Succeed", "Fail":
	case "Choice":
		if len(targets) == 0 {
			return fmt.Errorf("%sChoice %q has no choices", c.scope, name)
		}
	case "Task", "Pass", "Wait", "Map", "Parallel":
		if end == hasNext {
			return fmt.Errorf("%sstate %q needs exactly one of Next and End", c.scope, name)
		}
	default:
		return fmt.Errorf("%sstate %q has unknown Type %q", c.scope, name, typ)
	}
	return nil
}

func reachable(start string, edges map[string][]string) map[string]bool {
	reached := map[string]bool{}
	var visit func(string)
	visit = func(s string) {
		if reached[s] {
			return
		}
		reached[s] = true
		for _, t := range edges[s] {
			visit(t)
		}
	}
	visit(start)
	return reached
}

func targetsOf(st map[string]any) []string {
	var out []string
	if n, ok := st["Next"].(string); ok {
		out = append(out, n)
	}
	if n, ok := st["Default"].(string); ok {
		out = append(out, n)
	}
	for _, key := range []string{"Choices", "Catch"} {
		list, _ := st[key].([]any)
		for _, c := range list {
			if cm, ok := c.(map[string]any); ok {
				if n, ok := cm["Next"].(string); ok {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

func subScopes(st map[string]any) []map[string]any {
	var out []map[string]any
	for _, key := range []string{"ItemProcessor", "Iterator"} {
		if m, ok := st[key].(map[string]any); ok {
			out = append(out, m)
		}
	}
	if branches, ok := st["Branches"].([]any); ok {
		for _, b := range branches {
			if m, ok := b.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}
