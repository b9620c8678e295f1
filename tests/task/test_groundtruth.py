"""ground_truth: what a gold patch edits, at the file, module, function and line levels."""

from __future__ import annotations

import pytest

import acs
from acs.errors import InvalidArgumentError
from acs.task.groundtruth import GroundTruth, ground_truth, hunk_old_lines, merge_ranges
from acs.task.patch import Hunk

# The pre-patch file. Line numbers are given on the right; patches below refer to them.
SHAPES_LINES = [
    "import math",  # 1
    "",  # 2
    "SCALE = 2",  # 3
    "",  # 4
    "",  # 5
    "def area(r):",  # 6
    '    """Area of a circle."""',  # 7
    "    return math.pi * r * r",  # 8
    "",  # 9
    "",  # 10
    "@functools.cache",  # 11
    "@register(",  # 12
    '    "perimeter")',  # 13
    "def perimeter(r):",  # 14
    "    return 2 * math.pi * r",  # 15
    "",  # 16
    "",  # 17
    "def outer(x):",  # 18
    "    def inner(y):",  # 19
    "        return x + y",  # 20
    "",  # 21
    "    return inner(x)",  # 22
    "",  # 23
    "",  # 24
    "class Circle:",  # 25
    '    """A circle."""',  # 26
    "",  # 27
    '    unit = "cm"',  # 28
    "",  # 29
    "    def __init__(self, r):",  # 30
    "        self.r = r",  # 31
    "",  # 32
    "    @property",  # 33
    "    def diameter(self):",  # 34
    "        return 2 * self.r",  # 35
    "",  # 36
    "    class Meta:",  # 37
    "        ordered = True",  # 38
    "",  # 39
    "        def describe(self):",  # 40
    '            return "meta"',  # 41
    "",  # 42
    "",  # 43
    'if __name__ == "__main__":',  # 44
    "    print(area(1))",  # 45
]
SHAPES = "\n".join(SHAPES_LINES)  # no newline at the end of the file
P = "pkg/shapes.py"


@pytest.fixture(scope="module")
def repo() -> acs.Repo:
    return acs.Repo.from_files(
        {
            P: SHAPES,
            "pkg/util.py": "def helper():\n    return 1\n",
            "README.md": "# Shapes\n\nCircles.\n",
            "web/app.js": "function start() {\n  return 1;\n}\n",
        }
    )


def diff(path: str, *hunks: str) -> str:
    return f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n" + "".join(hunks)


def line(n: int) -> str:
    return SHAPES_LINES[n - 1]


def change(n: int, new: str) -> str:
    """A one-line change of line n with one line of context on each side."""
    return f"@@ -{n - 1},3 +{n - 1},3 @@\n {line(n - 1)}\n-{line(n)}\n+{new}\n {line(n + 1)}\n"


def test_fixture_line_numbers_match_the_outline(repo):
    symbols = {s["qualified_name"]: (s["start_line"], s["end_line"]) for s in _walk(repo, P)}
    assert symbols == {
        "area": (6, 8),
        "perimeter": (11, 15),  # the outline's range starts at the first decorator
        "outer": (18, 22),
        "outer.inner": (19, 20),
        "Circle": (25, 41),
        "Circle.__init__": (30, 31),
        "Circle.diameter": (33, 35),
        "Circle.Meta": (37, 41),
        "Circle.Meta.describe": (40, 41),
    }


def test_change_inside_a_method(repo):
    gt = ground_truth(repo, diff(P, change(31, "        self.r = float(r)")))
    assert gt.files == (P,)
    assert gt.modules == (f"{P}:Circle",)
    assert gt.functions == (f"{P}:Circle.__init__",)
    assert gt.lines == {P: ((31, 31),)}


def test_several_hunks_in_one_file(repo):
    patch = diff(P, change(8, "    return math.pi * r**2"), change(35, "        return self.r * 2"))
    gt = ground_truth(repo, patch)
    assert gt.modules == (f"{P}:Circle", f"{P}:area")
    assert gt.functions == (f"{P}:Circle.diameter", f"{P}:area")
    assert gt.lines == {P: ((8, 8), (35, 35))}


def test_several_files(repo):
    patch = diff(P, change(8, "    return 0")) + diff(
        "pkg/util.py", "@@ -1,2 +1,2 @@\n def helper():\n-    return 1\n+    return 2\n"
    )
    gt = ground_truth(repo, patch)
    assert gt.files == (P, "pkg/util.py")
    assert gt.functions == (f"{P}:area", "pkg/util.py:helper")
    assert gt.lines == {P: ((8, 8),), "pkg/util.py": ((2, 2),)}


def test_deleted_lines_are_merged_into_ranges(repo):
    hunk = f"@@ -6,4 +6,2 @@\n-{line(6)}\n-{line(7)}\n-{line(8)}\n+area = None\n {line(9)}\n"
    gt = ground_truth(repo, diff(P, hunk))
    assert gt.functions == (f"{P}:area",)
    assert gt.lines == {P: ((6, 8),)}


def test_pure_insertion_counts_the_line_it_follows(repo):
    hunk = f"@@ -20,2 +20,3 @@\n {line(20)}\n+        # added\n {line(21)}\n"
    gt = ground_truth(repo, diff(P, hunk))
    assert gt.lines == {P: ((20, 20),)}
    assert gt.functions == (f"{P}:outer.inner",)


def test_insertion_after_a_blank_line_between_definitions_counts_no_definition(repo):
    hunk = f"@@ -16,2 +16,3 @@\n {line(16)}\n+CONSTANT = 1\n {line(17)}\n"
    gt = ground_truth(repo, diff(P, hunk))
    assert (gt.files, gt.modules, gt.functions) == ((P,), (), ())
    assert gt.lines == {P: ((16, 16),)}


def test_insertion_at_the_top_of_the_file_counts_line_one(repo):
    hunk = f"@@ -1,2 +1,3 @@\n+import functools\n {line(1)}\n {line(2)}\n"
    gt = ground_truth(repo, diff(P, hunk))
    assert gt.lines == {P: ((1, 1),)}


def test_decorator_line_belongs_to_the_decorated_function(repo):
    gt = ground_truth(repo, diff(P, change(12, "@register_shape(")))
    assert gt.modules == (f"{P}:perimeter",)
    assert gt.functions == (f"{P}:perimeter",)


def test_decorator_line_of_a_method_belongs_to_the_method(repo):
    gt = ground_truth(repo, diff(P, change(33, "    @cached_property")))
    assert gt.functions == (f"{P}:Circle.diameter",)


def test_nested_function_is_named_by_its_qualified_name(repo):
    gt = ground_truth(repo, diff(P, change(20, "        return x - y")))
    assert gt.modules == (f"{P}:outer",)
    assert gt.functions == (f"{P}:outer.inner",)


def test_outer_function_body_outside_the_nested_one_is_the_outer_function(repo):
    hunk = f"@@ -21,2 +21,2 @@\n {line(21)}\n-{line(22)}\n+    return inner(-x)\n"
    gt = ground_truth(repo, diff(P, hunk))
    assert gt.functions == (f"{P}:outer",)


def test_class_body_outside_methods_counts_as_the_class(repo):
    gt = ground_truth(repo, diff(P, change(28, '    unit = "mm"')))
    assert gt.modules == (f"{P}:Circle",)
    assert gt.functions == (f"{P}:Circle",)


def test_nested_class_body_counts_as_the_nested_class(repo):
    gt = ground_truth(repo, diff(P, change(38, "        ordered = False")))
    assert gt.modules == (f"{P}:Circle",)
    assert gt.functions == (f"{P}:Circle.Meta",)


def test_method_of_a_nested_class(repo):
    gt = ground_truth(repo, diff(P, change(41, '            return "META"')))
    assert gt.functions == (f"{P}:Circle.Meta.describe",)


def test_top_level_code_counts_at_file_and_line_level_only(repo):
    gt = ground_truth(repo, diff(P, change(3, "SCALE = 3")))
    assert (gt.files, gt.modules, gt.functions) == ((P,), (), ())
    assert gt.lines == {P: ((3, 3),)}


def test_change_of_the_last_line_without_newline_at_end_of_file(repo):
    hunk = (
        f"@@ -44,2 +44,2 @@\n {line(44)}\n-{line(45)}\n\\ No newline at end of file\n"
        "+    print(area(2))\n\\ No newline at end of file\n"
    )
    gt = ground_truth(repo, diff(P, hunk))
    assert (gt.functions, gt.lines) == ((), {P: ((45, 45),)})


def test_non_python_file_counts_at_file_and_line_level_only(repo):
    patch = diff("README.md", "@@ -3 +3 @@\n-Circles.\n+Circles and squares.\n")
    gt = ground_truth(repo, patch)
    assert (gt.files, gt.modules, gt.functions) == (("README.md",), (), ())
    assert gt.lines == {"README.md": ((3, 3),)}


def test_definitions_in_other_languages_count_only_when_asked(repo):
    patch = diff(
        "web/app.js", "@@ -1,3 +1,3 @@\n function start() {\n-  return 1;\n+  return 2;\n }\n"
    )
    assert ground_truth(repo, patch).functions == ()
    assert ground_truth(repo, patch, languages=None).functions == ("web/app.js:start",)


def test_renamed_file_without_edits_counts_its_old_path_at_file_level(repo):
    patch = (
        "diff --git a/pkg/util.py b/pkg/helpers.py\nsimilarity index 100%\n"
        "rename from pkg/util.py\nrename to pkg/helpers.py\n"
    )
    gt = ground_truth(repo, patch)
    assert (gt.files, gt.functions, gt.lines) == (("pkg/util.py",), (), {})


def test_renamed_file_with_edits_is_located_in_the_old_file(repo):
    patch = (
        "diff --git a/pkg/util.py b/pkg/helpers.py\nsimilarity index 80%\n"
        "rename from pkg/util.py\nrename to pkg/helpers.py\n--- a/pkg/util.py\n"
        "+++ b/pkg/helpers.py\n@@ -1,2 +1,2 @@\n def helper():\n-    return 1\n+    return 2\n"
    )
    gt = ground_truth(repo, patch)
    assert gt.files == ("pkg/util.py",)
    assert gt.functions == ("pkg/util.py:helper",)
    assert gt.lines == {"pkg/util.py": ((2, 2),)}


def test_added_file_is_kept_apart(repo):
    patch = (
        "diff --git a/pkg/new.py b/pkg/new.py\nnew file mode 100644\n--- /dev/null\n"
        "+++ b/pkg/new.py\n@@ -0,0 +1 @@\n+def new(): pass\n" + diff(P, change(8, "    return 0"))
    )
    gt = ground_truth(repo, patch)
    assert gt.added_files == ("pkg/new.py",)
    assert gt.files == (P,)
    assert "pkg/new.py" not in gt.lines


def test_deleted_file_is_kept_apart(repo):
    patch = (
        "diff --git a/pkg/util.py b/pkg/util.py\ndeleted file mode 100644\n--- a/pkg/util.py\n"
        "+++ /dev/null\n@@ -1,2 +0,0 @@\n-def helper():\n-    return 1\n"
    )
    gt = ground_truth(repo, patch)
    assert gt.deleted_files == ("pkg/util.py",)
    assert (gt.files, gt.functions, gt.lines) == ((), (), {})


def test_mode_change_only_is_not_an_edit(repo):
    patch = "diff --git a/pkg/util.py b/pkg/util.py\nold mode 100644\nnew mode 100755\n"
    assert ground_truth(repo, patch).files == ()


def test_file_the_repository_lacks_counts_at_file_level_only(repo):
    patch = diff("pkg/missing.py", "@@ -1 +1 @@\n-def gone(): pass\n+def back(): pass\n")
    gt = ground_truth(repo, patch)
    assert (gt.files, gt.functions, gt.lines) == (("pkg/missing.py",), (), {})


def test_malformed_patch_raises(repo):
    with pytest.raises(InvalidArgumentError):
        ground_truth(repo, "not a patch\n")


def test_json_round_trip(repo):
    gt = ground_truth(repo, diff(P, change(8, "    return 0"), change(31, "        self.r = 1")))
    data = gt.to_json()
    assert data["lines"] == {P: [[8, 8], [31, 31]]}
    assert GroundTruth.from_json(data) == gt


def test_hunk_old_lines_of_a_mixed_hunk():
    hunk = Hunk(10, 5, 10, 6, (" a", "-b", "+B", " c", "+new", " d", "-e"))
    # b is changed (11), "new" follows c (12), e is deleted (14)
    assert hunk_old_lines([hunk]) == {11, 12, 14}


def test_hunk_old_lines_of_an_insertion_with_no_context():
    assert hunk_old_lines([Hunk(7, 0, 8, 1, ("+x",))]) == {7}
    assert hunk_old_lines([Hunk(0, 0, 1, 1, ("+x",))]) == {1}


def test_merge_ranges_joins_overlapping_and_touching_ranges():
    assert merge_ranges([(5, 6), (1, 2), (3, 4), (8, 9), (9, 12)]) == ((1, 6), (8, 12))


def test_merge_ranges_keeps_ranges_with_a_gap_apart():
    assert merge_ranges([(4, 4), (1, 2)]) == ((1, 2), (4, 4))


def _walk(repo: acs.Repo, path: str):
    stack = list(repo.outline(path)["symbols"])
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.get("children", []))
