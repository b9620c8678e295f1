"""parse_patch: unified diffs (git and plain) into files and hunks."""

from __future__ import annotations

import doctest

import pytest

import acs.task.patch
from acs.errors import InvalidArgumentError
from acs.task.patch import FilePatch, Hunk, parse_patch

MODIFIED = """\
diff --git a/pkg/mod.py b/pkg/mod.py
index 1111111..2222222 100644
--- a/pkg/mod.py
+++ b/pkg/mod.py
@@ -10,3 +10,4 @@ def f():
     a = 1
-    b = 2
+    b = 3
+    c = 4
     return a
"""


def test_modified_file_has_both_paths_without_prefixes():
    [fp] = parse_patch(MODIFIED)
    assert (fp.old_path, fp.new_path, fp.status) == ("pkg/mod.py", "pkg/mod.py", "modified")


def test_hunk_keeps_header_numbers_and_prefixed_body_lines():
    [fp] = parse_patch(MODIFIED)
    assert fp.hunks == (
        Hunk(
            10, 3, 10, 4, ("     a = 1", "-    b = 2", "+    b = 3", "+    c = 4", "     return a")
        ),
    )


def test_omitted_hunk_count_means_one():
    [fp] = parse_patch("--- a/x.py\n+++ b/x.py\n@@ -3 +3 @@\n-old\n+new\n")
    assert fp.hunks == (Hunk(3, 1, 3, 1, ("-old", "+new")),)


def test_several_hunks_in_one_file_in_order():
    patch = "--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n-a\n+A\n b\n@@ -20,2 +20,3 @@\n c\n+d\n e\n"
    [fp] = parse_patch(patch)
    assert [(h.old_start, h.old_count, h.new_start, h.new_count) for h in fp.hunks] == [
        (1, 2, 1, 2),
        (20, 2, 20, 3),
    ]


def test_several_files_in_order():
    patch = MODIFIED + (
        "diff --git a/other.py b/other.py\n--- a/other.py\n+++ b/other.py\n@@ -1 +1 @@\n-x\n+y\n"
    )
    assert [fp.old_path for fp in parse_patch(patch)] == ["pkg/mod.py", "other.py"]


def test_new_file_has_no_old_path():
    patch = (
        "diff --git a/new.py b/new.py\nnew file mode 100644\nindex 0000000..3333333\n"
        "--- /dev/null\n+++ b/new.py\n@@ -0,0 +1,2 @@\n+a\n+b\n"
    )
    [fp] = parse_patch(patch)
    assert (fp.old_path, fp.new_path, fp.status) == (None, "new.py", "added")
    assert fp.hunks == (Hunk(0, 0, 1, 2, ("+a", "+b")),)


def test_empty_new_file_without_hunks_is_added():
    patch = (
        "diff --git a/pkg/__init__.py b/pkg/__init__.py\nnew file mode 100644\nindex 0..e69de29\n"
    )
    [fp] = parse_patch(patch)
    assert (fp.old_path, fp.new_path, fp.hunks) == (None, "pkg/__init__.py", ())


def test_deleted_file_has_no_new_path():
    patch = (
        "diff --git a/old.py b/old.py\ndeleted file mode 100644\nindex 3333333..0000000\n"
        "--- a/old.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n"
    )
    [fp] = parse_patch(patch)
    assert (fp.old_path, fp.new_path, fp.status) == ("old.py", None, "deleted")


def test_rename_without_edits_has_both_paths_and_no_hunks():
    patch = (
        "diff --git a/src/old name.py b/src/new name.py\nsimilarity index 100%\n"
        "rename from src/old name.py\nrename to src/new name.py\n"
    )
    [fp] = parse_patch(patch)
    assert (fp.old_path, fp.new_path, fp.status, fp.hunks) == (
        "src/old name.py",
        "src/new name.py",
        "renamed",
        (),
    )


def test_rename_with_edits_keeps_its_hunks():
    patch = (
        "diff --git a/a.py b/b.py\nsimilarity index 90%\nrename from a.py\nrename to b.py\n"
        "index 1..2 100644\n--- a/a.py\n+++ b/b.py\n@@ -5 +5 @@\n-x\n+y\n"
    )
    [fp] = parse_patch(patch)
    assert (fp.old_path, fp.new_path, fp.status) == ("a.py", "b.py", "renamed")
    assert fp.hunks == (Hunk(5, 1, 5, 1, ("-x", "+y")),)


def test_copy_is_an_added_file():
    patch = "diff --git a/a.py b/c.py\nsimilarity index 100%\ncopy from a.py\ncopy to c.py\n"
    [fp] = parse_patch(patch)
    assert (fp.old_path, fp.new_path, fp.status) == (None, "c.py", "added")


def test_binary_change_has_no_hunks():
    patch = (
        "diff --git a/img.png b/img.png\nindex 1..2 100644\n"
        "Binary files a/img.png and b/img.png differ\n" + MODIFIED
    )
    binary, text = parse_patch(patch)
    assert (binary.old_path, binary.hunks, binary.binary) == ("img.png", (), True)
    assert (text.old_path, text.binary) == ("pkg/mod.py", False)


def test_git_binary_patch_data_is_skipped():
    patch = (
        "diff --git a/img.png b/img.png\nnew file mode 100644\nindex 0..2\nGIT binary patch\n"
        "literal 5\nMcmZQzWMXCj0000\n\nliteral 0\nHcmV?d00001\n\n" + MODIFIED
    )
    binary, text = parse_patch(patch)
    assert (binary.status, binary.binary) == ("added", True)
    assert text.old_path == "pkg/mod.py"


def test_mode_change_only_is_a_modified_file_without_hunks():
    patch = "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n"
    [fp] = parse_patch(patch)
    assert (fp.old_path, fp.new_path, fp.status, fp.hunks) == ("run.sh", "run.sh", "modified", ())


def test_no_newline_at_end_of_file_marker_is_dropped():
    patch = (
        "--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n"
        "+c\n\\ No newline at end of file\n"
    )
    [fp] = parse_patch(patch)
    assert fp.hunks[0].lines == (" a", "-b", "+c")


def test_blank_context_line_without_its_space_counts_as_context():
    [fp] = parse_patch("--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n")
    assert fp.hunks[0].lines == (" a", " ", "-b", "+c")


def test_plain_unified_diff_with_timestamps():
    patch = (
        "--- a/x.py\t2024-01-01 10:00:00.000000000 +0000\n"
        "+++ b/x.py\t2024-01-02 10:00:00.000000000 +0000\n@@ -1 +1 @@\n-a\n+b\n"
    )
    [fp] = parse_patch(patch)
    assert (fp.old_path, fp.new_path) == ("x.py", "x.py")


def test_format_patch_preamble_and_signature_are_ignored():
    patch = (
        "From 0123 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] fix\n\n---\n x.py | 2 +-\n\n"
        + MODIFIED
        + "-- \n2.43.0\n"
    )
    assert [fp.old_path for fp in parse_patch(patch)] == ["pkg/mod.py"]


def test_quoted_paths_are_decoded():
    patch = (
        'diff --git "a/caf\\303\\251 \\"x\\".py" "b/caf\\303\\251 \\"x\\".py"\n'
        '--- "a/caf\\303\\251 \\"x\\".py"\n+++ "b/caf\\303\\251 \\"x\\".py"\n@@ -1 +1 @@\n-a\n+b\n'
    )
    [fp] = parse_patch(patch)
    assert fp.old_path == 'café "x".py'


def test_crlf_patch_paths_have_no_carriage_return():
    patch = "--- a/x.py\r\n+++ b/x.py\r\n@@ -1 +1 @@\r\n-a\r\n+b\r\n"
    [fp] = parse_patch(patch)
    assert (fp.old_path, len(fp.hunks[0].lines)) == ("x.py", 2)


def test_status_is_derived_from_paths():
    assert FilePatch("a", "a", ()).status == "modified"
    assert FilePatch(None, "a", ()).status == "added"
    assert FilePatch("a", None, ()).status == "deleted"
    assert FilePatch("a", "b", ()).status == "renamed"


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ("", "no file diff"),
        ("just some text\n", "no file diff"),
        ("@@ -1 +1 @@\n-a\n+b\n", "before any file header"),
        ("--- a/x.py\n+++ b/x.py\n@@ -1,x +1 @@\n-a\n+b\n", "bad hunk header"),
        ("--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n", "ends early"),
        ("--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\nxyz\n b\n c\n", "found 'xyz'"),
        ("--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-b\n+c\n+d\n", "longer than its header"),
        (
            "diff --git a/x.py b/x.py\n--- a/x.py\n@@ -1 +1 @@\n-b\n+c\n",
            r"not followed by a '\+\+\+' line",
        ),
    ],
)
def test_malformed_patch_raises_invalid_argument(patch, message):
    with pytest.raises(InvalidArgumentError, match=message) as info:
        parse_patch(patch)
    assert "\n" not in str(info.value)


def test_docstring_examples():
    result = doctest.testmod(acs.task.patch)
    assert result.attempted > 0 and result.failed == 0


def test_a_hunk_header_with_an_absurd_line_number_is_a_clear_error():
    # 5,000 digits: past Python's int-conversion limit, once a ValueError that escaped.
    diff = f"--- a/x.py\n+++ b/x.py\n@@ -{'9' * 5000},1 +1,1 @@\n-a\n+b\n"
    with pytest.raises(InvalidArgumentError, match="bad hunk header"):
        parse_patch(diff)
