//! Line-level text helpers shared by the tools: lossy decoding, clipping of huge lines,
//! context around a line, and line slicing.

/// The UTF-8 byte-order mark, which some editors write at the start of a file.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `content` without a leading UTF-8 byte-order mark: the mark is not text of the first line.
pub(crate) fn strip_bom(content: &[u8]) -> &[u8] {
    content.strip_prefix(BOM).unwrap_or(content)
}

/// Decode a line for output: lossy UTF-8, trailing `\r` removed, clipped to `max_chars`
/// characters around byte offset `focus` (marked with `…` where cut).
pub(crate) fn clip_line(line: &[u8], focus: usize, max_chars: usize) -> String {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let max_chars = max_chars.max(16);
    // Cheap bound first: a char is at most 4 bytes, so a window of 4*max bytes is enough.
    if line.len() <= max_chars {
        return String::from_utf8_lossy(line).into_owned();
    }
    // Saturating: `max_chars` comes from the caller and may be anything.
    let window = max_chars.saturating_mul(4);
    let lo = focus.saturating_sub(window / 2).min(line.len());
    let hi = lo.saturating_add(window).min(line.len());
    let text = String::from_utf8_lossy(&line[lo..hi]);
    let chars: Vec<char> = text.chars().collect();
    if lo == 0 && hi == line.len() && chars.len() <= max_chars {
        return text.into_owned();
    }
    // Keep the focus roughly centred in what we return.
    let focus_chars = String::from_utf8_lossy(&line[lo..focus.clamp(lo, hi)])
        .chars()
        .count();
    let start = focus_chars
        .saturating_sub(max_chars / 2)
        .min(chars.len().saturating_sub(max_chars));
    let end = start.saturating_add(max_chars).min(chars.len());
    let mut out = String::new();
    if lo > 0 || start > 0 {
        out.push('…');
    }
    out.extend(&chars[start..end]);
    if hi < line.len() || end < chars.len() {
        out.push('…');
    }
    out
}

/// Up to `n` lines before `[start, end)` (a line's byte span, without its `\n`) and after it.
pub(crate) fn context_lines(
    content: &[u8],
    start: usize,
    end: usize,
    n: usize,
    max_chars: usize,
) -> (Vec<String>, Vec<String>) {
    if n == 0 {
        return (Vec::new(), Vec::new());
    }
    let mut before = Vec::new();
    let mut cursor = start;
    while before.len() < n && cursor > 0 {
        let line_end = cursor - 1; // the '\n' ending the previous line
        let line_start = memchr::memrchr(b'\n', &content[..line_end]).map_or(0, |p| p + 1);
        before.push(clip_line(&content[line_start..line_end], 0, max_chars));
        cursor = line_start;
    }
    before.reverse();
    let mut after = Vec::new();
    let mut cursor = end + 1; // skip the '\n'
    while after.len() < n && cursor < content.len() {
        let line_end =
            memchr::memchr(b'\n', &content[cursor..]).map_or(content.len(), |p| cursor + p);
        after.push(clip_line(&content[cursor..line_end], 0, max_chars));
        cursor = line_end + 1;
    }
    (before, after)
}

/// Byte offsets where each line starts (line 1 starts at 0). A final line without `\n` counts.
pub(crate) fn line_starts(content: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        memchr::memchr_iter(b'\n', content)
            .map(|p| p + 1)
            .filter(|&p| p < content.len()),
    );
    starts
}

/// Number of lines, counting a final line without `\n`; 0 for empty content.
pub(crate) fn line_count(content: &[u8]) -> usize {
    if content.is_empty() {
        return 0;
    }
    let newlines = memchr::memchr_iter(b'\n', content).count();
    newlines + usize::from(!content.ends_with(b"\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_pass_through() {
        assert_eq!(clip_line(b"x = 1\r", 0, 300), "x = 1");
    }

    #[test]
    fn huge_lines_are_clipped_around_the_focus() {
        let mut line = "a".repeat(1_000_000);
        line.replace_range(500_000..500_006, "NEEDLE");
        let out = clip_line(line.as_bytes(), 500_000, 100);
        assert!(out.contains("NEEDLE"), "{out}");
        assert!(out.starts_with('…') && out.ends_with('…'));
        assert!(out.chars().count() <= 102);
    }

    #[test]
    fn clipping_never_splits_a_character() {
        let line = "é".repeat(10_000);
        let out = clip_line(line.as_bytes(), 5_001, 50); // focus inside a 2-byte char
        assert!(out.chars().all(|c| c == 'é' || c == '…' || c == '\u{FFFD}'));
    }

    #[test]
    fn any_max_chars_is_safe() {
        let line = "b".repeat(1_000);
        assert_eq!(clip_line(line.as_bytes(), 999, usize::MAX), line);
        assert!(clip_line(line.as_bytes(), usize::MAX, 0).chars().count() <= 18);
    }

    #[test]
    fn context_stops_at_the_edges() {
        let text = b"one\ntwo\nthree\nfour";
        // "three" spans bytes 8..13
        let (before, after) = context_lines(text, 8, 13, 5, 100);
        assert_eq!(before, vec!["one", "two"]);
        assert_eq!(after, vec!["four"]);
    }

    #[test]
    fn lines_are_counted_like_an_editor() {
        assert_eq!(line_count(b""), 0);
        assert_eq!(line_count(b"a"), 1);
        assert_eq!(line_count(b"a\n"), 1);
        assert_eq!(line_count(b"a\nb"), 2);
        assert_eq!(line_starts(b"a\nb\n"), vec![0, 2]);
    }
}
