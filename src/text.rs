//! Text from outside gopack (a registry's error message, a header, a config file key) made safe
//! to print: no control character reaches the terminal, and the length is bounded; and counts
//! worded for people ([`counted`]: `1 layer`, never `1 layers`).

/// `text` with every control character (C0, DEL, C1 — so ESC/CSI sequences and BEL — and the
/// bidirectional overrides) replaced: line breaks and tabs by a space, the others by their
/// `\u{..}` escape; runs of whitespace collapsed; cut to `max_chars` characters with `…`.
pub fn printable(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut count = 0;
    let mut last_space = true;
    for c in text.chars() {
        if count >= max_chars {
            out.push('…');
            break;
        }
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
                count += 1;
            }
            last_space = true;
            continue;
        }
        last_space = false;
        if c.is_control() || is_bidi_control(c) {
            let escaped = format!("\\u{{{:x}}}", c as u32);
            count += escaped.len();
            out.push_str(&escaped);
        } else {
            out.push(c);
            count += 1;
        }
    }
    out.trim_end().to_string()
}

/// [`printable`] of bytes that may not be UTF-8 (invalid sequences become `�`).
pub fn printable_bytes(bytes: &[u8], max_chars: usize) -> String {
    let head = &bytes[..bytes.len().min(max_chars.saturating_mul(4))];
    printable(&String::from_utf8_lossy(head), max_chars)
}

/// [`printable`] for text whose lines matter (an error message with a hint on its own line):
/// line breaks (`\n`) and tabs are kept, every other control character (C0 including `\r`,
/// DEL, C1, the bidirectional overrides) is replaced by its `\u{..}` escape; cut to
/// `max_chars` characters with `…`; trailing whitespace removed.
pub fn printable_lines(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut count = 0;
    for c in text.chars() {
        if count >= max_chars {
            out.push('…');
            break;
        }
        if (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c) {
            let escaped = format!("\\u{{{:x}}}", c as u32);
            count += escaped.len();
            out.push_str(&escaped);
        } else {
            out.push(c);
            count += 1;
        }
    }
    out.trim_end().to_string()
}

/// Characters that reorder how a terminal or editor shows the text around them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `n` and the noun in agreement with it: `counted(1, "layer", "layers")` is `1 layer`,
/// `counted(0, …)` and `counted(2, …)` use the plural.
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_never_survive() {
        let shown = printable("\u{1b}]0;owned\u{7}\u{1b}[2Jgone\u{9b}31m\u{202e}x", 200);
        assert_eq!(
            shown,
            "\\u{1b}]0;owned\\u{7}\\u{1b}[2Jgone\\u{9b}31m\\u{202e}x"
        );
        assert!(!shown.chars().any(|c| c.is_control()));
    }

    #[test]
    fn lines_keep_their_breaks_but_never_escapes() {
        let shown = printable_lines("first\n  second\t\u{1b}[31mred\r\u{9b}2J\u{202e}", 200);
        assert_eq!(
            shown,
            "first\n  second\t\\u{1b}[31mred\\u{d}\\u{9b}2J\\u{202e}"
        );
        assert_eq!(printable_lines(&"y".repeat(50), 5), "yyyyy…");
    }

    #[test]
    fn whitespace_collapses_and_length_is_bounded() {
        assert_eq!(printable("  a\n\n\tb  ", 50), "a b");
        assert_eq!(
            printable(&"x".repeat(500), 10),
            format!("{}…", "x".repeat(10))
        );
        assert_eq!(printable_bytes(b"ok\xff", 10), "ok\u{fffd}");
    }

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(counted(1, "layer", "layers"), "1 layer");
        assert_eq!(counted(0, "layer", "layers"), "0 layers");
        assert_eq!(counted(2, "entry", "entries"), "2 entries");
    }
}
