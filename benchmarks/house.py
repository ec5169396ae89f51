"""The house in figures, read from the code: the layout of ``conformance`` (lines per module),
its import graph (cycles, imports that point up a layer), and how many times the suite writes
what a user relies on being written once: validators of a target's results, the places a
status is spelled, the copies of each claim.

    python benchmarks/house.py [ROOT]      # ROOT: a checkout (default: this one)

Layers, top to bottom (docs/architecture.md): run -> checks -> targets -> reproduce -> report
-> the package's base modules (config, errors, models) -> reference.  A flat checkout (before
the sub-packages) has no layers: its upward imports are not counted.
"""
import ast
import os
import sys

#: Each layer (a sub-package, or a module of the package's base) and its rank: an import may
#: only point to a lower or equal rank.
LAYERS = {"run": 6, "checks": 5, "targets": 4, "reproduce": 3, "report": 2, "config": 1, "errors": 1,
          "models": 1, "__init__": 7, "__main__": 7, "test_checks": 7}
#: The statuses a row can have: a module that spells one as a string literal decides on it.
STATUSES = {"passed", "failed", "known", "stale", "error", "unsupported", "skipped"}
#: Names of the functions that check what a target returned (a validator of results).
VALIDATOR_WORDS = ("validated", "_check_tensor", "_tensor_result", "expect_structure", "expect_cell_structure",
                   "expect_tensor", "assert_structure", "assert_cell_structure", "assert_tensor")


def modules(root):
    """dotted name -> path of every module under root/conformance."""
    found = {}
    for folder, _, files in os.walk(os.path.join(root, "conformance")):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                dotted = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
                found[dotted.removesuffix(".__init__")] = path
    return found


def imports(dotted, path, known):
    """The modules of ``known`` that ``dotted`` imports, at any depth of its code."""
    tree = ast.parse(open(path).read())
    package = dotted if path.endswith("__init__.py") else dotted.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                for candidate in (f"{base}.{alias.name}", base):
                    if candidate in known:
                        found.add(candidate)
                        break
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
    found.discard(dotted)
    return found


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, result, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return result


def rank(dotted):
    parts = dotted.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else LAYERS["__init__"]


def upward(graph, layered):
    """(importer, imported) pairs that point to a higher layer."""
    if not layered:
        return []
    return sorted((a, b) for a, targets in graph.items() for b in targets
                  if rank(a) is not None and rank(b) is not None and rank(b) > rank(a))


def literal_statuses(path):
    tree = ast.parse(open(path).read())
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in STATUSES}


def status_lists(path):
    """Tuples, lists, sets and dicts written out with two statuses or more: a status list
    declared in that module (one that can disagree with another)."""
    tree = ast.parse(open(path).read())
    found = 0
    for node in ast.walk(tree):
        items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)) and items:
            if sum(isinstance(i, ast.Constant) and i.value in STATUSES for i in items) >= 2:
                found += 1
    return found


def defined(path, names):
    """The functions of ``names`` that ``path`` defines and that do their own checking (one that
    hands its values to a claim, ``holds(...)``, does not)."""
    tree = ast.parse(open(path).read())
    return [n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name in names
            and "holds(" not in ast.unparse(n)]


def claim_copies(found):
    """claim -> the functions that state it: in a check (its own test of a result), a trace
    hook restating it, and a standalone helper; after ``claims``, one function each."""
    tree_of = {d: ast.parse(open(p).read()) for d, p in found.items()}
    kinds = {"structure": ("validated", "structure", "expect_structure", "assert_structure"),
             "cell structure": ("_validated", "cell_structure", "expect_cell_structure", "assert_cell_structure"),
             "tensor": ("_check_tensor", "_tensor_result", "tensor_result", "expect_tensor", "assert_tensor"),
             "packed order": ("_packed_result", "packed_order", "expect_packed_order", "assert_packed_order"),
             "parameters like torch": ("check_parameters_named_like_torch", "check_cell_parameters_named_like_torch",
                                       "parameters_like_torch", "expect_torch_parameters", "assert_torch_parameters"),
             "trained": ("parameters_received_gradients", "trained", "expect_trained", "assert_trained"),
             "requires grad": ("requires_grad", "expect_requires_grad", "assert_requires_grad"),
             "close": ("compare", "expect_close", "assert_close"), "runs": ("expect_runs", "assert_runs"),
             "identical": ("compare_exact", "expect_identical", "assert_identical"),
             "either": ("compare_either", "expect_either", "assert_either")}
    counts = {}
    for kind, names in kinds.items():
        places = []
        for dotted, tree in tree_of.items():
            for node in ast.walk(tree):
                if not isinstance(node, ast.FunctionDef) or node.name not in names:
                    continue
                body = ast.unparse(node)
                # a check that delegates to the claim (or to its arithmetic) does not state it again
                if not node.name.startswith("assert_") and ("holds(" in body or "close_ratios(" in body
                                                            or "differing(" in body or "either_ratios(" in body):
                    continue
                places.append(f"{dotted.removeprefix('conformance.')}.{node.name}")
        counts[kind] = places
    return counts


def inline_expectations(found):
    """dotted -> how many expectations a module of ``checks`` states by raising CheckFailure
    itself, outside a claim (a reproducer cannot state those)."""
    counts = {}
    for dotted, path in found.items():
        if ".checks." in dotted and not dotted.endswith("support.boundary"):  # the boundary turns claims into failures
            tree = ast.parse(open(path).read())
            raised = sum(1 for n in ast.walk(tree) if isinstance(n, ast.Raise) and n.exc is not None
                         and "CheckFailure(" in ast.unparse(n.exc))
            if raised:
                counts[dotted] = raised
    return counts


#: The hooks that state a claim or a comparison (what a check's body is for); every other hook
#: feeds a row's script a call the check made, which the boundary (``Context``) records.
CLAIM_HOOKS = ("holds", "checked", "holds_layout", "compared")


def script_feeding_hooks(found):
    """dotted -> how many hooks a check family's module calls by hand to feed a row's script
    (not a claim or a comparison), outside the checks' support."""
    counts = {}
    for dotted, path in found.items():
        if dotted.startswith("conformance.checks.") and ".support" not in dotted:
            tree = ast.parse(open(path).read())
            fed = sum(1 for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                      and isinstance(n.func.value, ast.Name) and n.func.value.id == "hooks"
                      and n.func.attr not in CLAIM_HOOKS)
            if fed:
                counts[dotted] = fed
    return counts


def claim_functions(found):
    """The ``assert_*`` functions of ``reproduce.claims``: the vocabulary of expectations."""
    path = found.get("conformance.reproduce.claims")
    if path is None:
        return []
    return [n.name for n in ast.parse(open(path).read()).body if isinstance(n, ast.FunctionDef)
            and n.name.startswith("assert_")]


def main(root="."):
    found = modules(root)
    graph = {d: imports(d, p, found) for d, p in found.items()}
    layered = os.path.isdir(os.path.join(root, "conformance", "report"))
    lines = {d: sum(1 for _ in open(p)) for d, p in found.items()}
    print(f"conformance: {len(found)} modules, {sum(lines.values())} lines, "
          f"{len({d.rsplit('.', 1)[0] for d in found if d.count('.') > 1})} sub-packages")
    for d in sorted(found):
        print(f"  {d.removeprefix('conformance.'):38} {lines[d]:5}")
    found_cycles = cycles(graph)
    print(f"import cycles: {len(found_cycles)}" + "".join(f"\n  {' <-> '.join(c)}" for c in found_cycles))
    up = upward(graph, layered)
    print(f"imports pointing up a layer: {len(up) if layered else '- (no layers)'}"
          + "".join(f"\n  {a} -> {b}" for a, b in up))
    spelled = sorted(d for d, p in found.items() if literal_statuses(p))
    print(f"modules that spell a status as a literal: {len(spelled)}\n  " + ", ".join(spelled))
    lists = {d: status_lists(p) for d, p in found.items()}
    print(f"status lists written out (two statuses or more): {sum(lists.values())} in "
          f"{sum(1 for n in lists.values() if n)} modules\n  "
          + ", ".join(f"{d} {n}" for d, n in sorted(lists.items()) if n))
    validators = sorted(f"{d}.{n}" for d, p in found.items() for n in defined(p, VALIDATOR_WORDS))
    print(f"validators of a target's results: {len(validators)}\n  " + ", ".join(validators))
    copies = claim_copies(found)
    print("places each claim is written: " + ", ".join(f"{k} {len(v)}" for k, v in copies.items()))
    for kind, places in copies.items():
        print(f"  {kind}: {', '.join(places)}")
    inline = inline_expectations(found)
    print(f"expectations the checks raise inline, outside a claim: {sum(inline.values())}"
          + "".join(f"\n  {d} {n}" for d, n in sorted(inline.items())))
    print(f"claims (reproduce.claims.assert_*): {len(claim_functions(found))}")
    fed = script_feeding_hooks(found)
    print(f"hooks the check families call by hand to feed a script: {sum(fed.values())}"
          + "".join(f"\n  {d} {n}" for d, n in sorted(fed.items())))
    return found_cycles, up


if __name__ == "__main__":
    main(*sys.argv[1:])
