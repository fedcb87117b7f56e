package iamcheck

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

type parameter struct {
	Type           string `yaml:"Type"`
	Default        string `yaml:"Default"`
	AllowedPattern string `yaml:"AllowedPattern"`
}

func templateParameters(t *testing.T) map[string]parameter {
	t.Helper()
	raw, err := os.ReadFile("../../template.yaml")
	require.NoError(t, err)
	var doc struct {
		Parameters map[string]parameter `yaml:"Parameters"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	return doc.Parameters
}

// Item 5: "us-east-1, eu-west-1" (a space after the comma, as people type
// it) would reach every run as " eu-west-1"; CloudFormation refuses it at
// deploy time instead. AllowedPattern must match the whole value.
func TestRegionsRefusesSpacesAtDeployTime(t *testing.T) {
	p := templateParameters(t)["Regions"]
	require.NotEmpty(t, p.AllowedPattern, "Regions has an AllowedPattern")
	re := regexp.MustCompile(`^(?:` + p.AllowedPattern + `)$`)
	for _, ok := range []string{"", "all", "us-east-1", "us-east-1,eu-west-1", "us-east-1,eu-west-1,ap-southeast-2", "us-gov-west-1,il-central-1"} {
		assert.True(t, re.MatchString(ok), "%q is accepted", ok)
	}
	for _, bad := range []string{"us-east-1, eu-west-1", " us-east-1", "us-east-1 ", "us-east-1,,eu-west-1", "us-east-1,", ",us-east-1", "all,us-east-1", "US-EAST-1"} {
		assert.False(t, re.MatchString(bad), "%q is refused", bad)
	}
	assert.True(t, re.MatchString(p.Default), "the default is accepted")
}

// Item 9: the README's Deploy section names every parameter of the template,
// and no other.
func TestReadmeListsTheTemplateParameters(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	section := regexp.MustCompile("(?s)\nParameters: (.*?)\n\n").FindSubmatch(raw)
	require.NotNil(t, section, "README's Deploy section has a 'Parameters: ...' paragraph")
	var inReadme []string
	for _, m := range regexp.MustCompile("`([A-Za-z]+)`").FindAllSubmatch(outsideParentheses(section[1]), -1) {
		if name := string(m[1]); !slices.Contains(inReadme, name) {
			inReadme = append(inReadme, name)
		}
	}
	var inTemplate []string
	for name := range templateParameters(t) {
		inTemplate = append(inTemplate, name)
	}
	sort.Strings(inReadme)
	sort.Strings(inTemplate)
	assert.Equal(t, inTemplate, inReadme)
}

// outsideParentheses drops what the README says about each parameter (in
// parentheses, possibly nested), leaving the names.
func outsideParentheses(b []byte) []byte {
	var out []byte
	depth := 0
	for _, c := range b {
		switch {
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0:
			out = append(out, c)
		}
	}
	return out
}
