#!/usr/bin/env python3
"""Reads and checks the definitions in functions/ (see functions/README.md).

    scripts/functions.py list [NAME ...]    one tab-separated line per definition:
                                           name, kind, product, architecture, zip budget in bytes
    scripts/functions.py check              validate every definition, print nothing on success

Used by build.sh; the deployment template and `sortie dev` read the same JSON files.
"""
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRECTORY = os.environ.get("SORTIE_FUNCTIONS_DIR", os.path.join(ROOT, "functions"))

KINDS = ("lambda", "executable")
ARCHITECTURES = ("x86_64", "arm64")
DEFAULT_ZIP_BUDGET = 8_000_000  # bytes; issue 3: every zip at most 8 MB
NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
ENV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Lambda reserves these; setting them in a definition would be ignored or rejected on deploy.
RESERVED_ENV = re.compile(r"^(AWS_|_HANDLER$|_X_AMZN_TRACE_ID$|LAMBDA_TASK_ROOT$|LAMBDA_RUNTIME_DIR$|TZ$)")


# IAM actions are named one by one: least privilege is written down, not matched by pattern.
ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")
PARAMETER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
SCHEDULE = re.compile(r"^(rate|cron)\(.+\)$")
# What each trigger type may carry besides "type" (required ones first, see functions/README.md).
TRIGGERS = {
    "invoke": ((), ()),
    "schedule": (("expression",), ("job", "args")),
    "eventbridge": (("pattern",), ()),
    "bucket": (("bucket",), ("events", "prefix", "suffix")),
}

TYPE_NAMES = {str: "string", int: "integer", list: "array", dict: "object", bool: "boolean"}


class Invalid(Exception):
    pass


def load(path):
    file_name = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as handle:
            spec = json.load(handle)
    except (OSError, ValueError) as error:
        raise Invalid(f"{file_name}: not readable JSON: {error}")
    if not isinstance(spec, dict):
        raise Invalid(f"{file_name}: must be a JSON object")

    def need(key, kind, where=spec):
        if key not in where:
            raise Invalid(f"{file_name}: missing \"{key}\"")
        value = where[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise Invalid(f"{file_name}: \"{key}\" must be of JSON type {TYPE_NAMES[kind]}")
        return value

    name = need("name", str)
    if not NAME.match(name):
        raise Invalid(f"{file_name}: name {name!r} must be lower-case letters, digits and '-'")
    if file_name != name + ".json":
        raise Invalid(f"{file_name}: name is {name!r}; the file must be called {name}.json")
    kind = need("kind", str)
    if kind not in KINDS:
        raise Invalid(f"{file_name}: kind {kind!r} must be one of {', '.join(KINDS)}")
    product = need("product", str)
    if not product:
        raise Invalid(f"{file_name}: product is empty")
    architecture = need("architecture", str)
    if architecture not in ARCHITECTURES:
        raise Invalid(f"{file_name}: architecture {architecture!r} must be one of {', '.join(ARCHITECTURES)}")
    environment = spec.get("environment", {})
    if not isinstance(environment, dict):
        raise Invalid(f"{file_name}: environment must be an object of strings")
    for key, value in environment.items():
        if not ENV_NAME.match(key) or not isinstance(value, str):
            raise Invalid(f"{file_name}: environment {key!r} must be a variable name with a string value")
        if kind == "lambda" and RESERVED_ENV.match(key):
            raise Invalid(f"{file_name}: environment {key!r} is reserved by Lambda")

    if kind == "lambda":
        memory = need("memory", int)
        if not 128 <= memory <= 10240:
            raise Invalid(f"{file_name}: memory {memory} must be 128 to 10240 (MB)")
        timeout = need("timeout", int)
        if not 1 <= timeout <= 900:
            raise Invalid(f"{file_name}: timeout {timeout} must be 1 to 900 (seconds)")
        for trigger in need("triggers", list):
            check_trigger(file_name, trigger)
        deploy_environment = spec.get("deployEnvironment", {})
        if not isinstance(deploy_environment, dict):
            raise Invalid(f"{file_name}: deployEnvironment must be an object of strings or null")
        for key, value in deploy_environment.items():
            if not ENV_NAME.match(key) or RESERVED_ENV.match(key) or not (value is None or isinstance(value, str)):
                raise Invalid(f"{file_name}: deployEnvironment {key!r} must be an unreserved variable name with a string or null")
    for permission in need("permissions", list):
        check_permission(file_name, permission)
    parameters = spec.get("parameters", {})
    if not isinstance(parameters, dict):
        raise Invalid(f"{file_name}: parameters must be an object")
    for key, value in parameters.items():
        if not PARAMETER_NAME.match(key) or not isinstance(value, dict) or not isinstance(value.get("description"), str) \
                or not isinstance(value.get("default", ""), str) or set(value) - {"description", "default"}:
            raise Invalid(f"{file_name}: parameter {key!r} must be {{\"description\": text, \"default\"?: text}} under an alphanumeric name")
    for key in ("sampleEvent", "expectedResponse"):
        if key in spec:
            relative = need(key, str)
            if not os.path.isfile(os.path.join(ROOT, relative)):
                raise Invalid(f"{file_name}: {key} {relative!r} does not exist")
    if "expectedResponse" in spec and "sampleEvent" not in spec:
        raise Invalid(f"{file_name}: expectedResponse needs a sampleEvent")
    budget = spec.get("maxZipBytes", DEFAULT_ZIP_BUDGET)
    if not isinstance(budget, int) or isinstance(budget, bool) or budget <= 0:
        raise Invalid(f"{file_name}: maxZipBytes must be a positive integer")
    spec["maxZipBytes"] = budget
    return spec


def check_trigger(file_name, trigger):
    if not isinstance(trigger, dict) or trigger.get("type") not in TRIGGERS:
        raise Invalid(f"{file_name}: every trigger must be an object with a \"type\" of {', '.join(TRIGGERS)}")
    kind = trigger["type"]
    required, optional = TRIGGERS[kind]
    for key in required:
        if key not in trigger:
            raise Invalid(f"{file_name}: a {kind} trigger needs \"{key}\"")
    unknown = set(trigger) - {"type", *required, *optional}
    if unknown:
        raise Invalid(f"{file_name}: a {kind} trigger takes no {', '.join(sorted(unknown))}")
    if kind == "schedule":
        if not isinstance(trigger["expression"], str) or not SCHEDULE.match(trigger["expression"]):
            raise Invalid(f"{file_name}: a schedule's expression must be rate(...) or cron(...)")
        if "job" in trigger and not (isinstance(trigger["job"], str) and NAME.match(trigger["job"])):
            raise Invalid(f"{file_name}: a schedule's job must be a job name")
        if "args" in trigger and ("job" not in trigger or not isinstance(trigger["args"], dict)):
            raise Invalid(f"{file_name}: a schedule's args must be an object, with a job")
    if kind == "eventbridge" and not (isinstance(trigger["pattern"], dict) and trigger["pattern"]):
        raise Invalid(f"{file_name}: an eventbridge trigger's pattern must be a non-empty object")
    if kind == "bucket":
        events = trigger.get("events", ["s3:ObjectCreated:*"])
        if not isinstance(trigger["bucket"], str) or not NAME.match(trigger["bucket"]):
            raise Invalid(f"{file_name}: a bucket trigger's bucket must be lower-case letters, digits and '-'")
        if not isinstance(events, list) or not events or not all(isinstance(e, str) and e.startswith("s3:") for e in events):
            raise Invalid(f"{file_name}: a bucket trigger's events must be a list of s3:... event types")
        if not all(isinstance(trigger.get(key, ""), str) for key in ("prefix", "suffix")):
            raise Invalid(f"{file_name}: a bucket trigger's prefix and suffix must be text")


def check_permission(file_name, permission):
    if not isinstance(permission, dict) or set(permission) - {"actions", "resources", "condition"}:
        raise Invalid(f"{file_name}: a permission is an object of actions, resources and an optional condition")
    actions, resources = permission.get("actions"), permission.get("resources")
    if not isinstance(actions, list) or not actions or not all(isinstance(a, str) and ACTION.match(a) for a in actions):
        raise Invalid(f"{file_name}: a permission's actions must be service:Action names, without wildcards")
    if not isinstance(resources, list) or not resources or not all(isinstance(r, str) and r for r in resources):
        raise Invalid(f"{file_name}: a permission's resources must be a non-empty list of ARNs")
    if not isinstance(permission.get("condition", {}), dict):
        raise Invalid(f"{file_name}: a permission's condition must be an object")


def load_all():
    if not os.path.isdir(DIRECTORY):
        raise Invalid(f"no folder {DIRECTORY}")
    specs = [load(os.path.join(DIRECTORY, entry)) for entry in sorted(os.listdir(DIRECTORY)) if entry.endswith(".json")]
    if not specs:
        raise Invalid(f"no definitions in {DIRECTORY}")
    return specs


def main(argv):
    try:
        specs = load_all()
        if len(argv) >= 2 and argv[1] == "check":
            return 0
        if len(argv) >= 2 and argv[1] == "list":
            by_name = {spec["name"]: spec for spec in specs}
            wanted = argv[2:] or list(by_name)
            lines = []
            for name in wanted:
                if name not in by_name:
                    raise Invalid(f"no function {name!r}; known: {', '.join(by_name)}")
                spec = by_name[name]
                lines.append("\t".join([name, spec["kind"], spec["product"], spec["architecture"], str(spec["maxZipBytes"])]))
            print("\n".join(lines))
            return 0
        print(__doc__, file=sys.stderr)
        return 2
    except Invalid as error:
        print(f"functions: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
