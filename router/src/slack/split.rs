//! Splitting a long answer into Slack messages: at paragraph boundaries, then at line
//! boundaries, never inside a code fence when the fence fits in one message, and when it
//! does not, closing and reopening the fence so every message renders on its own.
//!
//! Why the limit is far below what Slack accepts: Slack truncates a message's `text`
//! beyond 40,000 characters and asks apps to split long messages "into multiple
//! postings of no more than 40,000 characters each, preferably less"; its earlier advice
//! was to keep messages under 4,000 (https://api.slack.com/changelog/2018-04-truncating-really-long-messages,
//! and the legacy RTM guidance: "Clients should limit messages sent to channels to 4000
//! characters"). 3,900 characters stays under that with room for a fence marker.

/// The largest message we post, in characters (Unicode scalar values).
pub const MESSAGE_LIMIT: usize = 3_900;

/// Splits `text` into messages of at most `limit` characters, in order. Text that fits
/// is returned unchanged; empty text gives no message. `limit` below 16 is raised to 16
/// (room for a fence and some content).
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(16);
    if text.trim().is_empty() {
        return Vec::new();
    }
    if text.chars().count() <= limit {
        return vec![text.to_string()];
    }
    let mut out = Chunks::new(limit);
    for block in blocks(text) {
        out.push_block(&block);
    }
    out.finish()
}

/// A paragraph: lines up to a blank line outside a code fence. A fence with blank lines
/// inside stays in one block.
fn blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut fence: Option<&str> = None;
    for line in text.lines() {
        if fence.is_none() && line.trim().is_empty() {
            if !current.is_empty() {
                blocks.push(current.join("\n"));
                current.clear();
            }
            continue;
        }
        fence = next_fence(fence, line);
        current.push(line);
    }
    if !current.is_empty() {
        blocks.push(current.join("\n"));
    }
    blocks
}

/// The fence state after `line`: a line starting with ``` or ~~~ opens a fence (its
/// opener kept, language and all) or closes the open one.
fn next_fence<'a>(open: Option<&'a str>, line: &'a str) -> Option<&'a str> {
    let trimmed = line.trim_start();
    let marker = if trimmed.starts_with("```") {
        "```"
    } else if trimmed.starts_with("~~~") {
        "~~~"
    } else {
        return open;
    };
    match open {
        None => Some(trimmed),
        Some(opener) if opener.starts_with(marker) && trimmed.trim() == marker => None,
        Some(opener) => Some(opener),
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The messages being built.
struct Chunks {
    limit: usize,
    done: Vec<String>,
    current: String,
}

impl Chunks {
    fn new(limit: usize) -> Chunks {
        Chunks {
            limit,
            done: Vec::new(),
            current: String::new(),
        }
    }

    fn flush(&mut self) {
        let chunk = self.current.trim_matches('\n');
        if !chunk.trim().is_empty() {
            self.done.push(chunk.to_string());
        }
        self.current.clear();
    }

    /// Appends `piece` after `separator` if both fit, else starts a new message with it.
    /// The caller guarantees `piece` alone fits.
    fn append(&mut self, separator: &str, piece: &str) {
        if self.current.is_empty() {
            self.current.push_str(piece);
        } else if chars(&self.current) + chars(separator) + chars(piece) <= self.limit {
            self.current.push_str(separator);
            self.current.push_str(piece);
        } else {
            self.flush();
            self.current.push_str(piece);
        }
    }

    fn push_block(&mut self, block: &str) {
        if chars(block) <= self.limit {
            self.append("\n\n", block);
            return;
        }
        // Too long for one message: its own messages, cut at lines.
        self.flush();
        let mut fence: Option<&str> = None;
        for line in block.lines() {
            let reopen = fence.map(|opener| format!("{opener}\n"));
            fence = next_fence(fence, line);
            // Room kept for closing a fence that is (or becomes) open in this message.
            let close = if fence.is_some() { "\n```".len() } else { 0 };
            let room = self.limit - close;
            for piece in cut_line(
                line,
                room.saturating_sub(reopen.as_deref().map_or(0, chars)),
            ) {
                if !self.current.is_empty() && chars(&self.current) + 1 + chars(&piece) <= room {
                    self.current.push('\n');
                    self.current.push_str(&piece);
                    continue;
                }
                if !self.current.is_empty() {
                    if let Some(opener) = reopen.as_deref() {
                        self.current.push('\n');
                        self.current.push_str(closing_marker(opener));
                        self.flush();
                        self.current.push_str(opener);
                    } else {
                        self.flush();
                    }
                }
                self.current.push_str(&piece);
            }
        }
        self.flush();
    }

    fn finish(mut self) -> Vec<String> {
        self.flush();
        self.done
    }
}

/// The marker that closes a fence opened by `opener`.
fn closing_marker(opener: &str) -> &'static str {
    if opener.trim_start().starts_with("~~~") {
        "~~~"
    } else {
        "```"
    }
}

/// One line in pieces of at most `room` characters: at the last space that fits, else
/// at a character boundary.
fn cut_line(line: &str, room: usize) -> Vec<String> {
    let room = room.max(1);
    let mut pieces = Vec::new();
    let mut rest = line;
    while chars(rest) > room {
        // Byte index just past `room` characters.
        let end = rest
            .char_indices()
            .nth(room)
            .map_or(rest.len(), |(index, _)| index);
        let cut = match rest[..end].rfind(' ') {
            Some(space) if space > 0 => space,
            _ => outside_entity(rest, end),
        };
        pieces.push(rest[..cut].to_string());
        rest = rest[cut..].strip_prefix(' ').unwrap_or(&rest[cut..]);
    }
    pieces.push(rest.to_string());
    pieces
}

/// `end`, or the start of a Slack escape (`&amp;`, `&lt;`, `&gt;`) it would cut in two.
fn outside_entity(s: &str, end: usize) -> usize {
    match s[..end].rfind('&') {
        Some(amp) if amp > 0 && end - amp < 5 && !s[amp..end].contains(';') => amp,
        _ => end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fences_balanced(chunk: &str) -> bool {
        let mut open = None;
        for line in chunk.lines() {
            open = next_fence(open, line);
        }
        open.is_none()
    }

    /// The text without whitespace and fence lines: nothing lost, nothing added.
    fn content(text: &str) -> String {
        text.lines()
            .filter(|l| !l.trim_start().starts_with("```") && !l.trim_start().starts_with("~~~"))
            .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
            .collect()
    }

    fn check(text: &str, limit: usize) -> Vec<String> {
        let chunks = split_message(text, limit);
        for chunk in &chunks {
            assert!(
                chars(chunk) <= limit,
                "{} > {limit}: {chunk:?}",
                chars(chunk)
            );
            assert!(!chunk.trim().is_empty());
        }
        let joined = chunks.join("\n");
        assert_eq!(content(&joined), content(text));
        chunks
    }

    #[test]
    fn short_text_is_one_message_unchanged() {
        assert_eq!(split_message("hi  there\n", 100), vec!["hi  there\n"]);
        assert!(split_message(" \n ", 100).is_empty());
    }

    #[test]
    fn paragraphs_are_packed_and_never_cut() {
        let para = |c: char| std::iter::repeat_n(c, 30).collect::<String>();
        let text = [para('a'), para('b'), para('c'), para('d')].join("\n\n");
        let chunks = check(&text, 70);
        assert_eq!(
            chunks,
            vec![
                format!("{}\n\n{}", para('a'), para('b')),
                format!("{}\n\n{}", para('c'), para('d')),
            ]
        );
    }

    #[test]
    fn a_code_fence_that_fits_stays_whole() {
        let text = format!(
            "{}\n\n```rust\nfn a() {{}}\n\nfn b() {{}}\n```\n\n{}",
            "x".repeat(50),
            "y".repeat(10)
        );
        let chunks = check(&text, 60);
        assert!(
            chunks.iter().any(|c| c.contains("fn a() {}\n\nfn b() {}")),
            "{chunks:?}"
        );
        assert!(chunks.iter().all(|c| fences_balanced(c)), "{chunks:?}");
    }

    #[test]
    fn a_long_code_fence_is_closed_and_reopened() {
        let body: Vec<String> = (0..40).map(|i| format!("let line_{i} = {i};")).collect();
        let text = format!("Here:\n```rust\n{}\n```\nDone.", body.join("\n"));
        let chunks = check(&text, 120);
        assert!(chunks.len() > 3, "{chunks:?}");
        for chunk in &chunks {
            assert!(fences_balanced(chunk), "{chunk:?}");
        }
        assert!(chunks[1].starts_with("```rust\n"), "{:?}", chunks[1]);
    }

    #[test]
    fn a_long_line_is_cut_at_spaces_then_anywhere() {
        let text = "word ".repeat(100);
        check(&text, 50);
        let unbroken = "é".repeat(130);
        let chunks = check(&unbroken, 50);
        assert_eq!(chunks.len(), 3);
    }

    #[test]
    fn an_escape_is_not_cut_in_two() {
        let text = format!("{}&amp;{}", "a".repeat(18), "b".repeat(20));
        let chunks = check(&text, 20);
        assert!(chunks.iter().any(|c| c.starts_with("&amp;")), "{chunks:?}");
    }

    #[test]
    fn many_shapes_stay_within_the_limit() {
        let mut text = String::new();
        for i in 0..200 {
            match i % 7 {
                0 => text.push_str("```\ncode 🦀 line\n\nmore code\n```\n"),
                1 => text.push_str(&"long ".repeat(i * 3)),
                2 => text.push_str("\n\n"),
                _ => text.push_str(&format!("line {i} with some words\n")),
            }
        }
        for limit in [16, 40, 200, MESSAGE_LIMIT] {
            check(&text, limit);
        }
    }
}
