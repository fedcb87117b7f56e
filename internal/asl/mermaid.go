package asl

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Mermaid draws a definition as a Mermaid flowchart: every state, its
// Next, Default and Choices edges, Catch edges dotted, Map and Parallel
// states as subgraphs.
func Mermaid(def []byte) (string, error) {
	var root map[string]any
	if err := json.Unmarshal(def, &root); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	start, _ := root["StartAt"].(string)
	fmt.Fprintf(&b, "    Start([start]) --> %s\n", nodeID("", start))
	drawScope(&b, "", root, "    ")
	return b.String(), nil
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9]+`)

func nodeID(scope, name string) string {
	return unsafe.ReplaceAllString(scope+"_"+name, "_")
}

func drawScope(b *strings.Builder, scope string, m map[string]any, indent string) {
	states, _ := m["States"].(map[string]any)
	names := make([]string, 0, len(states))
	for n := range states {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		st := states[name].(map[string]any)
		id := nodeID(scope, name)
		typ, _ := st["Type"].(string)
		label := strings.ReplaceAll(name, `"`, "'")
		switch typ {
		case "Choice":
			fmt.Fprintf(b, "%s%s{\"%s\"}\n", indent, id, label)
		case "Succeed", "Fail":
			fmt.Fprintf(b, "%s%s([\"%s (%s)\"])\n", indent, id, label, typ)
		case "Map", "Parallel":
			fmt.Fprintf(b, "%ssubgraph %s[\"%s (%s)\"]\n", indent, id, label, typ)
			for i, sub := range subScopes(st) {
				inner := fmt.Sprintf("%s_%d", id, i)
				start, _ := sub["StartAt"].(string)
				fmt.Fprintf(b, "%s    %s_start(( )) --> %s\n", indent, inner, nodeID(inner, start))
				drawScope(b, inner, sub, indent+"    ")
			}
			fmt.Fprintf(b, "%send\n", indent)
		default:
			fmt.Fprintf(b, "%s%s[\"%s\"]\n", indent, id, label)
		}
		if n, ok := st["Next"].(string); ok {
			fmt.Fprintf(b, "%s%s --> %s\n", indent, id, nodeID(scope, n))
		}
		if choices, ok := st["Choices"].([]any); ok {
			for _, c := range choices {
				cm := c.(map[string]any)
				fmt.Fprintf(b, "%s%s -- %s --> %s\n", indent, id, condition(cm), nodeID(scope, cm["Next"].(string)))
			}
		}
		if n, ok := st["Default"].(string); ok {
			fmt.Fprintf(b, "%s%s -- otherwise --> %s\n", indent, id, nodeID(scope, n))
		}
		if catches, ok := st["Catch"].([]any); ok {
			for _, c := range catches {
				cm := c.(map[string]any)
				fmt.Fprintf(b, "%s%s -. error .-> %s\n", indent, id, nodeID(scope, cm["Next"].(string)))
			}
		}
	}
}

func condition(c map[string]any) string {
	v, _ := c["Variable"].(string)
	for k, val := range c {
		if k == "Variable" || k == "Next" {
			continue
		}
		return fmt.Sprintf("\"%s %v\"", strings.TrimPrefix(v, "$."), val)
	}
	return "\"" + v + "\""
}
