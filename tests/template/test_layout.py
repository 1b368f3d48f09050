"""The layout CONTRIBUTING.md shows is the tree: every Rust file under src/ and tests/ is named in
its layout block, and every path the block names exists. And the layering it states holds: a
module of src/ imports only from its own layer or the ones below, and no files import each other
in a circle (a test module at the end of a file aside)."""
import re
from pathlib import Path

from conftest import ROOT

BEGIN = "<!-- layout:begin"
END = "<!-- layout:end -->"
# Entries are indented two spaces a level; a line indented this far or more continues the
# description of the entry above it.
CONTINUATION = 16


def layout_block(text):
    start = text.index(BEGIN)
    block = text[start:text.index(END, start)]
    return re.search(r"^```\n(.*?)^```$", block, flags=re.M | re.S).group(1)


def named_paths(block):
    """Every path the tree names, folders ending in /, from its indentation."""
    parents, paths = [], []
    for line in block.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        if not line.strip() or indent >= CONTINUATION:
            continue
        assert indent % 2 == 0, f"layout line not indented two spaces a level: {line!r}"
        depth = indent // 2
        assert depth <= len(parents), f"layout line deeper than its folder: {line!r}"
        del parents[depth:]
        name = line.split()[0]
        path = "".join(parents) + name
        paths.append(path)
        if name.endswith("/"):
            parents.append(name)
    return paths


def rust_files():
    return sorted(
        p.relative_to(ROOT).as_posix() for folder in ("src", "tests") for p in (ROOT / folder).rglob("*.rs")
    )


def contributing_paths():
    return named_paths(layout_block((ROOT / "CONTRIBUTING.md").read_text()))


def test_every_rust_file_is_in_the_layout():
    named = set(contributing_paths())
    missing = [f for f in rust_files() if f not in named]
    assert not missing, f"CONTRIBUTING.md's layout does not name {missing}; add a line for each"


def test_every_path_in_the_layout_exists():
    gone = [p for p in contributing_paths() if not (ROOT / p).exists() or p.endswith("/") != (ROOT / p).is_dir()]
    assert not gone, f"CONTRIBUTING.md's layout names {gone}, which the tree does not hold"


def test_the_tree_is_read_by_indentation():
    block = "src/          x\n  a.rs        y\n                continued\n  d/          z\n    b.rs      w\ntop.yaml      v\n"
    assert named_paths(block) == ["src/", "src/a.rs", "src/d/", "src/d/b.rs", "top.yaml"]


# The layers of src/, bottom first: a module may import from its own layer and those before it.
# Within a layer, only the circle check below applies.
LAYERS = [
    {"domain", "sanitize", "config", "invocation"},
    {"detect"},
    {"render"},
    {"ports", "error"},
    {"forwarder", "deliver", "account_directory", "handler", "watchdog", "posture", "declare", "coverage", "schedule",
     "metrics", "dispatch", "logging"},
    {"aws", "startup"},
    {"main", "lib", "fakes", "samples"},
]
RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}


def module_of(path, src):
    """`src/detect/record.rs` → ("detect", "record"); `src/aws/mod.rs` → ("aws",)."""
    parts = Path(path).relative_to(src).with_suffix("").parts
    return parts[:-1] if parts[-1] == "mod" else parts


# Comments, strings and character literals, read left to right so that a quote in a comment or a
# `//` in a string is not taken for more than it is.
NOT_CODE = re.compile(r"""//[^\n]*|/\*.*?\*/|(?<!\w)r(#*)".*?"\1|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])'""", re.S)


def code_of(path):
    """The file's code without comments or string contents, and without a test module at its end."""
    text = Path(path).read_text()
    test_module = re.search(r"^#\[cfg\(test\)\]\s*\n\s*(pub(\(crate\))?\s+)?mod\s+\w+\s*\{", text, re.M)
    if test_module:
        text = text[: test_module.start()]
    return NOT_CODE.sub(lambda m: '""' if m.group(0)[0] in "r\"" else " ", text)


def expand(tree):
    """`a::{b, c::{d, e}}` → [[a, b], [a, c, d], [a, c, e]]."""
    tree = tree.strip()
    group = re.match(r"^((?:\w+::)*)\{(.*)\}$", tree, re.S)
    if not group:
        return [[part for part in re.sub(r"\s+as\s+\w+$", "", tree).split("::") if part and part != "self"]]
    base = [part for part in group.group(1).split("::") if part]
    parts, depth, current = [], 0, ""
    for ch in group.group(2):
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        current += ch
    parts.append(current)
    return [base + rest for part in parts if part.strip() for rest in expand(part)]


def imports(path, src, modules):
    """The modules of src/ that the file names: crate:: and super:: paths, in `use` or in code."""
    code = code_of(path)
    here = module_of(path, src)
    paths = []
    for use in re.finditer(r"\buse\s+((?:crate|super)::[^;]+);", code, re.S):
        paths += expand(use.group(1))
    paths += [m.group(1).split("::") for m in re.finditer(r"(?<![\w:])((?:crate|super)(?:::\w+)+)", code)]
    found = set()
    for parts in paths:
        if parts[0] == "crate":
            parts = parts[1:]
        else:
            base = list(here)
            while parts and parts[0] == "super":
                base, parts = base[:-1], parts[1:]
            parts = base + parts
        # The longest prefix that is a module of src/.
        for n in range(len(parts), 0, -1):
            if tuple(parts[:n]) in modules:
                if tuple(parts[:n]) != here:
                    found.add(tuple(parts[:n]))
                break
    return found


def import_graph(src=ROOT / "src"):
    files = sorted(src.rglob("*.rs"))
    modules = {module_of(f, src) for f in files}
    return {module_of(f, src): imports(f, src, modules) for f in files}


def find_circle(graph):
    """One circle of imports as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_every_module_of_src_has_a_layer():
    unplaced = sorted({module[0] for module in import_graph()} - set(RANK))
    assert not unplaced, f"{unplaced} in no layer: place each in LAYERS and in CONTRIBUTING.md's rule"


def test_imports_run_down_the_layers():
    upward = [
        f"{'::'.join(module)} imports {'::'.join(target)}"
        for module, targets in import_graph().items()
        for target in targets
        if RANK.get(target[0], -1) > RANK.get(module[0], len(LAYERS))
    ]
    assert not upward, "imports that run up the layers:\n" + "\n".join(sorted(upward))


def test_no_files_import_each_other_in_a_circle():
    circle = find_circle(import_graph())
    assert circle is None, "an import circle: " + " → ".join("::".join(m) for m in circle)


def test_the_import_reader_sees_use_trees_super_and_inline_paths(tmp_path):
    src = tmp_path / "src"
    (src / "a").mkdir(parents=True)
    (src / "d").mkdir()
    (src / "a" / "mod.rs").write_text("pub mod b;\nuse crate::{c::X, d::{e::Y, Z}};\n")
    (src / "a" / "b.rs").write_text(
        'use super::W; // crate::f::Q in a comment\n'
        'fn g() -> &\'static str { let q = \'"\'; crate::h::k(); "crate::i // x" }\n'
        "#[cfg(test)]\nmod tests {\n    use crate::c::X;\n}\n"
    )
    for name in ("c.rs", "d/mod.rs", "d/e.rs", "f.rs", "h.rs", "i.rs"):
        (src / name).write_text("")
    graph = import_graph(src)
    assert graph[("a",)] == {("c",), ("d", "e"), ("d",)}
    assert graph[("a", "b")] == {("a",), ("h",)}
    assert find_circle(graph) is None
    assert find_circle({("a",): {("b",)}, ("b",): {("c",)}, ("c",): {("a",)}}) == [("a",), ("b",), ("c",), ("a",)]
