"""Dataclasses that hold numpy arrays must not compare by value.

The generated `__eq__` compares fields with `==`; on arrays that yields an array, and
`list.remove`, `in` or `==` on such records then raise "the truth value of an array is
ambiguous" (issue 16: the leak check crashed on a frame with several faces). Such classes
declare `eq=False` (identity comparison) or define their own `__eq__`.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "anonnet_studio"


def _dataclass_decorator(node: ast.ClassDef) -> ast.expr | None:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if name == "dataclass":
            return decorator
    return None


def _compares_by_value(node: ast.ClassDef, decorator: ast.expr) -> bool:
    if any(isinstance(s, ast.FunctionDef) and s.name == "__eq__" for s in node.body):
        return False
    if isinstance(decorator, ast.Call):
        for keyword in decorator.keywords:
            if keyword.arg == "eq":
                return not (isinstance(keyword.value, ast.Constant) and not keyword.value.value)
    return True


def array_dataclasses_compared_by_value(root: Path) -> list[str]:
    """`path:Class (fields)` for each dataclass with an ndarray field and a value `__eq__`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            decorator = _dataclass_decorator(node)
            if decorator is None or not _compares_by_value(node, decorator):
                continue
            arrays = [
                ast.unparse(s.target)
                for s in node.body
                if isinstance(s, ast.AnnAssign) and "ndarray" in ast.unparse(s.annotation)
            ]
            if arrays:
                found.append(f"{path.relative_to(root.parent)}:{node.name} ({', '.join(arrays)})")
    return found


def test_no_dataclass_with_arrays_compares_by_value() -> None:
    assert array_dataclasses_compared_by_value(PACKAGE) == []


def test_the_scan_finds_a_dataclass_with_arrays(tmp_path: Path) -> None:
    """The scan itself sees value comparison, with and without arguments, and accepts
    `eq=False` and a hand-written `__eq__`."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(
        "from dataclasses import dataclass\n"
        "import dataclasses\n"
        "import numpy as np\n"
        "@dataclass(frozen=True, slots=True)\n"
        "class A:\n    box: np.ndarray\n"
        "@dataclasses.dataclass\n"
        "class B:\n    boxes: list[np.ndarray]\n"
        "@dataclass(eq=False)\n"
        "class C:\n    box: np.ndarray\n"
        "@dataclass\n"
        "class D:\n    box: np.ndarray\n"
        "    def __eq__(self, other: object) -> bool:\n        return self is other\n"
        "@dataclass\n"
        "class E:\n    name: str\n",
        encoding="utf-8",
    )
    found = array_dataclasses_compared_by_value(tmp_path / "pkg")
    assert found == ["pkg/m.py:A (box)", "pkg/m.py:B (boxes)"]
