#!/usr/bin/env python3
"""The module graph: which module imports which, layer by layer, read from Package.swift and the
sources. Checks that every import is a declared dependency and that every arrow points down
(to a module listed later in LAYERS), and keeps the README's architecture section current.

  scripts/module-graph.py            print the section
  scripts/module-graph.py --check    exit 1 naming every undeclared import, upward arrow, or a README out of date
  scripts/module-graph.py --write    rewrite the section in README.md
"""
import glob
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
BEGIN, END = "<!-- module-graph:begin -->", "<!-- module-graph:end -->"

# Top to bottom. A module may import only modules below it (later in this list).
LAYERS = [
    ("test support", ["ReactorTestSupport", "SortieTestSupport"]),
    ("developer tools", ["SortieCLI", "SortieLocal", "DevEnvironment", "JobReport", "JobCost", "Deployment", "JobSpecYAML", "SimulatedObjects",
                         "LocalRuntime", "LocalAWS", "LoopbackHTTP", "ChildProcesses"]),
    ("functions", ["LauncherFunction", "RetryReactorFunction", "S3SubmitterFunction", "ChunkProcessorFunction",
                   "EchoFunction", "SortieRunner"]),
    ("handlers", ["Launcher", "Reactor", "JobLaunch", "JobCancel", "JobRunner", "S3Submitter", "ChunkProcessing"]),
    ("job model and store", ["JobStore", "ChunkStore", "TableSchema", "JobModel", "ChunkPlanning", "KafkaProducer", "RecordFormats", "EmbeddedMetrics"]),
    ("AWS", ["FunctionStartup", "AWSServices", "AWSCore"]),
    ("runtime and HTTP", ["LambdaRuntime", "CurlHTTP", "SortieVersion", "WallTime", "JSONText"]),
    ("C libraries", ["CCurl", "CZlib", "CLibCrypto", "CSpawn"]),
]
# The toolchain's modules (never declared) and the packages' products (declared, not drawn).
TOOLCHAIN = {"Foundation", "FoundationEssentials", "FoundationNetworking", "Glibc", "Musl", "Darwin", "Dispatch",
             "Synchronization", "Testing", "XCTest", "_Concurrency"}
OUTSIDE = TOOLCHAIN | {"Logging", "ArgumentParser", "NIOCore", "NIOPosix", "NIOHTTP1", "Yams"}
IMPORT = re.compile(r"^\s*(?:@testable\s+|@_spi\(\w+\)\s+|(?:public|package|internal)\s+)*import\s+(?:(?:struct|class|enum|func|protocol|typealias)\s+)?(\w+)")


def package():
    out = subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def imports_of(path):
    found = set()
    for source in glob.glob(os.path.join(ROOT, path, "**", "*.swift"), recursive=True):
        in_string = False
        with open(source, encoding="utf-8") as handle:
            for line in handle:
                # Code inside multi-line string literals (e.g. embedded Python) is not Swift.
                if line.count('"""') % 2 == 1:
                    in_string = not in_string
                    continue
                match = None if in_string else IMPORT.match(line)
                if match:
                    found.add(match.group(1))
    return found


def graph(pkg):
    """{target: (in Sources/, declared dependencies, imports)} for every non-system target."""
    targets = {}
    for target in pkg["targets"]:
        if target["type"] == "system":
            continue
        declared = set()
        for dependency in target["dependencies"]:
            for key in ("byName", "target", "product"):
                if key in dependency:
                    declared.add(dependency[key][0])
        path = target.get("path") or os.path.join("Tests" if target["type"] == "test" else "Sources", target["name"])
        targets[target["name"]] = (path.startswith("Sources"), declared, imports_of(path) - {target["name"]})
    return targets


def problems(targets):
    position = {module: i for i, module in enumerate(m for _, modules in LAYERS for m in modules)}
    found = []
    for name, (shipped, declared, imports) in sorted(targets.items()):
        for module in sorted(imports - declared - TOOLCHAIN):
            found.append(f"{name} imports {module} without declaring it in Package.swift")
        if not shipped:
            continue  # tests, their support, fixtures and benchmarks sit on top of everything
        if name not in position:
            found.append(f"{name} is in no layer: add it to LAYERS in scripts/module-graph.py")
            continue
        for module in sorted(imports - OUTSIDE):
            if module in position and position[module] <= position[name]:
                found.append(f"{name} imports {module}, which is not below it")
    return found


def section(targets):
    lines = [BEGIN, "", "| layer | module | imports |", "| --- | --- | --- |"]
    for layer, modules in LAYERS:
        for module in modules:
            if module not in targets:
                continue
            own = sorted(targets[module][2] - OUTSIDE)
            lines.append(f"| {layer} | `{module}` | {', '.join(f'`{m}`' for m in own) or '—'} |")
            layer = ""
    lines += ["", END]
    return "\n".join(lines)


def main():
    targets = graph(package())
    text = section(targets)
    if "--check" in sys.argv or "--write" in sys.argv:
        found = problems(targets)
        readme = open(README, encoding="utf-8").read()
        if BEGIN not in readme or END not in readme:
            found.append(f"README.md has no {BEGIN} … {END} section")
        else:
            start, end = readme.index(BEGIN), readme.index(END) + len(END)
            if readme[start:end] != text:
                if "--write" in sys.argv:
                    open(README, "w", encoding="utf-8").write(readme[:start] + text + readme[end:])
                else:
                    found.append("README.md's module graph is out of date: run scripts/module-graph.py --write")
        for problem in found:
            print(problem, file=sys.stderr)
        sys.exit(1 if found else 0)
    print(text)


if __name__ == "__main__":
    main()
