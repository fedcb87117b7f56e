"""Print template.yaml as CloudFormation receives it: the SAM transform
applied offline, as `sam validate` applies it, then (with --resolve) the
Conditions and Fn::If decided for the given parameter values, so that a test
can read the stack one parameter setting would create.

usage: transform.py TEMPLATE [--resolve] [Name=Value ...]
"""
import json
import sys

from boto3 import Session
from samcli.lib.translate.sam_template_validator import SamTemplateValidator
from samcli.yamlhelper import yaml_parse
from samtranslator.parser import parser
from samtranslator.translator.translator import Translator

NO_VALUE = object()


def translate(path, params):
    with open(path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    # sam validate's fake S3 URIs for local CodeUri/DefinitionUri.
    validator = SamTemplateValidator(template, None, region="us-east-1")
    validator._replace_local_codeuri()
    translator = Translator(
        managed_policy_map=None, sam_parser=parser.Parser(), plugins=[],
        boto_session=Session(region_name="us-east-1"),
    )
    return translator.translate(
        sam_template=validator.sam_template, parameter_values=params,
        get_managed_policy_map=lambda: {},
    )


def parameter_values(template, params):
    values = {}
    for name, p in template.get("Parameters", {}).items():
        v = params.get(name, p.get("Default", ""))
        if p.get("Type") == "CommaDelimitedList":
            v = [] if v == "" else v.split(",")
        values[name] = v
    return values


def decide(expr, values, conditions):
    if isinstance(expr, dict) and len(expr) == 1:
        (fn, args), = expr.items()
        if fn == "Ref":
            return values.get(args, expr)
        if fn == "Condition":
            return conditions[args]
        if fn == "Fn::Equals":
            a, b = (decide(x, values, conditions) for x in args)
            return a == b
        if fn == "Fn::Not":
            return not decide(args[0], values, conditions)
        if fn == "Fn::And":
            return all(decide(x, values, conditions) for x in args)
        if fn == "Fn::Or":
            return any(decide(x, values, conditions) for x in args)
        if fn == "Fn::Join":
            return args[0].join(decide(args[1], values, conditions))
    return expr


def resolve(node, conditions):
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return resolve(yes if conditions[name] else no, conditions)
        if node == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        out = {}
        for k, v in node.items():
            v = resolve(v, conditions)
            if v is not NO_VALUE:
                out[k] = v
        return out
    if isinstance(node, list):
        return [v for v in (resolve(x, conditions) for x in node) if v is not NO_VALUE]
    return node


def resolve_conditions(template, params):
    values = parameter_values(template, params)
    conditions = {}
    pending = dict(template.get("Conditions", {}))
    while pending:  # conditions may name each other, in any order
        before = len(pending)
        for name, expr in list(pending.items()):
            try:
                conditions[name] = bool(decide(expr, values, conditions))
                del pending[name]
            except KeyError:
                pass
        if len(pending) == before:
            sys.exit(f"conditions that cannot be decided: {sorted(pending)}")
    resources = {
        rid: r for rid, r in template["Resources"].items()
        if conditions.get(r.get("Condition"), True)
    }
    template["Resources"] = resolve(resources, conditions)
    template["ResolvedConditions"] = conditions
    return template


def main(argv):
    path, rest = argv[0], argv[1:]
    do_resolve = "--resolve" in rest
    params = dict(a.split("=", 1) for a in rest if a != "--resolve")
    out = translate(path, params)
    if do_resolve:
        out = resolve_conditions(out, params)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
