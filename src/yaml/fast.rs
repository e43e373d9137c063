//! A fast parser for the regular YAML subset that clawctl's templates render and its
//! emitter writes: `---` separators, block mappings and sequences with space
//! indentation, JSON literals (minijinja's JSON auto-escaping puts every inserted value
//! in as one), single-line flow collections, literal block scalars and conservative
//! plain scalars.
//!
//! It answers `None` ("cannot handle") for anything outside that subset, and the caller
//! then parses the whole input with serde-saphyr. Whenever it answers `Some`, the result
//! is what serde-saphyr (YAML 1.2 core schema, strict booleans) produces for the same
//! text; the differential tests in `super::differential` hold it to that.

use std::borrow::Cow;

use super::doc::Doc;

/// Larger inputs go to serde-saphyr, whose budgets then apply.
const MAX_FAST_BYTES: usize = 16 * 1024 * 1024;
/// Well below serde-saphyr's document budget (1,024).
const MAX_FAST_DOCUMENTS: usize = 512;
/// Well below the node and event budgets set in `super::options`.
const MAX_FAST_NODES: usize = 100_000;
/// Well below `super::MAX_DEPTH`.
const MAX_FAST_DEPTH: usize = 24;
/// Well below YAML's (and serde-saphyr's) 1,024-character limit on implicit keys.
const MAX_KEY_BYTES: usize = 512;

/// Parses a stream of documents as JSON values (see [`parse_docs`]).
#[cfg(test)]
pub(super) fn parse_documents(text: &str) -> Option<Vec<serde_json::Value>> {
    parse_docs(text).map(|docs| docs.iter().map(Doc::to_value).collect())
}

/// Parses a stream of documents, skipping empty ones, or `None` when the text is
/// outside the subset this parser is sure about.
pub(super) fn parse_docs(text: &str) -> Option<Vec<Doc<'_>>> {
    if text.len() > MAX_FAST_BYTES || !plain_characters(text) {
        return None;
    }
    let mut p = Parser {
        s: text,
        b: text.as_bytes(),
        pos: 0,
        nodes: 0,
        entries: Vec::new(),
        items: Vec::new(),
        depth: 0,
    };
    let mut docs = Vec::new();
    let mut separators = 0;
    loop {
        p.skip_blank_lines();
        if p.eof() {
            break;
        }
        if p.at_document_marker() {
            p.pos += 3;
            p.eat_newline();
            separators += 1;
            if separators > MAX_FAST_DOCUMENTS {
                return None;
            }
            continue;
        }
        if p.indent() != 0 {
            return None;
        }
        let value = p.block_collection(0)?;
        p.skip_blank_lines();
        if !p.eof() && !p.at_document_marker() {
            return None;
        }
        docs.push(value);
    }
    Some(docs)
}

/// Only characters whose meaning is the same in every YAML reader: no control
/// characters but line feed and tab (tab is only ever accepted inside literal blocks),
/// no DEL, C1 controls (NEL among them), line/paragraph separators, byte order marks
/// or the non-characters U+FFFE and U+FFFF. `text` is UTF-8, so checking the encoded
/// forms of those characters is enough.
fn plain_characters(text: &str) -> bool {
    let b = text.as_bytes();
    // A non-short-circuiting fold, which the compiler vectorizes.
    let controls = b.iter().fold(false, |bad, &c| {
        bad | ((c < 0x20) & (c != b'\n') & (c != b'\t')) | (c == 0x7F)
    });
    if controls {
        return false;
    }
    if text.is_ascii() {
        return true;
    }
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' | b'\t' | 0x20..=0x7E => {}
            0x00..=0x1F | 0x7F => return false,
            // U+0080..U+009F
            0xC2 if matches!(b.get(i + 1), Some(0x80..=0x9F)) => return false,
            // U+2028, U+2029
            0xE2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xA8 | 0xA9)) => {
                return false;
            }
            // U+FEFF
            0xEF if b.get(i + 1) == Some(&0xBB) && b.get(i + 2) == Some(&0xBF) => return false,
            // U+FFFE, U+FFFF
            0xEF if b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)) => {
                return false;
            }
            _ => {}
        }
        i += 1;
    }
    true
}

/// What a plain scalar means, when that is certain.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Plain {
    Str,
    Int(i64),
    UInt(u64),
    Float(f64),
    Bool(bool),
    Null,
}

/// Bytes a plain scalar may consist of (besides `:` followed by one of them).
fn plain_byte(b: u8) -> bool {
    PLAIN_BYTES[usize::from(b)]
}

/// [`plain_byte`] as a table: it runs for every byte of every key and plain value.
static PLAIN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b'-');
        b += 1;
    }
    table
};

/// Unit suffixes of Kubernetes quantities; none is a number or exponent in YAML 1.1
/// or 1.2.
const QUANTITY_SUFFIXES: &[&str] = &["m", "k", "M", "G", "T", "P", "Ki", "Mi", "Gi", "Ti", "Pi"];

/// Words some YAML reader (1.1 or 1.2, any capitalisation) resolves to something
/// other than a string. Only their exact core-schema spellings are resolved here.
const RESERVED_WORDS: &[&str] = &[
    "null", "true", "false", "yes", "no", "on", "off", "y", "n", "inf", "infinity", "nan",
];

/// Classifies a plain scalar: `None` unless its resolution is certain. A string is only
/// `Str` when no YAML 1.1 or 1.2 reader would read it as anything else, so the emitter
/// writes exactly those unquoted.
pub(super) fn classify_plain(s: &str) -> Option<Plain> {
    let b = s.as_bytes();
    let first = *b.first()?;
    if first.is_ascii_alphabetic() || first == b'_' || first == b'/' {
        if !plain_token(b) {
            return None;
        }
        if b.len() <= 8 && matches!(first | 0x20, b'n' | b't' | b'f' | b'y' | b'o' | b'i') {
            match s {
                "null" => return Some(Plain::Null),
                "true" => return Some(Plain::Bool(true)),
                "false" => return Some(Plain::Bool(false)),
                _ if RESERVED_WORDS.iter().any(|w| s.eq_ignore_ascii_case(w)) => return None,
                _ => {}
            }
        }
        return Some(Plain::Str);
    }
    if s == "~" {
        return Some(Plain::Null);
    }
    if first == b'-' || first.is_ascii_digit() {
        let digits = s.strip_prefix('-').unwrap_or(s);
        let n = digits.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let (num, suffix) = digits.split_at(n);
        if suffix.starts_with(['.', 'e', 'E']) {
            return float(s, num, suffix);
        }
        if suffix.is_empty() {
            // A decimal integer, YAML 1.2 style: no leading zero, no `-0` (which JSON
            // readers take for the float -0.0).
            if (num.starts_with('0') && num != "0") || s == "-0" {
                return None;
            }
            return match s.parse::<i64>() {
                Ok(i) => Some(Plain::Int(i)),
                Err(_) if first != b'-' => s.parse::<u64>().ok().map(Plain::UInt),
                Err(_) => None,
            };
        }
        if first == b'-' || !QUANTITY_SUFFIXES.contains(&suffix) {
            return None;
        }
        return Some(Plain::Str);
    }
    None
}

/// A JSON-shaped float, `num` its integer digits and `rest` what follows them:
/// `(\.[0-9]+)?([eE][-+]?[0-9]+)?`, at least one part, no leading zero, finite.
fn float(s: &str, num: &str, rest: &str) -> Option<Plain> {
    if num.starts_with('0') && num != "0" {
        return None;
    }
    let digits = |t: &str| t.bytes().take_while(u8::is_ascii_digit).count();
    let mut rest = rest;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = digits(frac);
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    if let Some(exp) = rest.strip_prefix(['e', 'E']) {
        let exp = exp.strip_prefix(['-', '+']).unwrap_or(exp);
        let n = digits(exp);
        if n == 0 {
            return None;
        }
        rest = &exp[n..];
    }
    if !rest.is_empty() {
        return None;
    }
    let f = s.parse::<f64>().ok()?;
    f.is_finite().then_some(Plain::Float(f))
}

/// `s` consists of plain bytes and `:`s each followed by a plain byte.
fn plain_token(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !(plain_byte(c) || (c == b':' && b.get(i + 1).is_some_and(|&n| plain_byte(n)))) {
            return false;
        }
        i += 1;
    }
    true
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    nodes: usize,
    depth: usize,
    /// Entries of the mappings being read, innermost last: each mapping then takes
    /// exactly the room it needs, in one allocation.
    entries: Vec<(Cow<'a, str>, Doc<'a>)>,
    /// Items of the sequences being read, innermost last.
    items: Vec<Doc<'a>>,
}

/// Where a value stands: after `key:` in a block mapping, or after `-` in a block
/// sequence.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Map,
    Seq,
}

impl<'a> Parser<'a> {
    fn eof(&self) -> bool {
        self.pos >= self.b.len()
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, at: usize) -> Option<u8> {
        self.b.get(at).copied()
    }

    /// A `---` line on its own.
    fn at_document_marker(&self) -> bool {
        self.b[self.pos..].starts_with(b"---")
            && matches!(self.peek_at(self.pos + 3), None | Some(b'\n'))
    }

    fn eat_newline(&mut self) {
        if self.peek() == Some(b'\n') {
            self.pos += 1;
        }
    }

    /// Spaces at the start of the current line (`pos` is at a line start).
    fn indent(&self) -> usize {
        self.b[self.pos..]
            .iter()
            .take_while(|&&c| c == b' ')
            .count()
    }

    /// Skips lines holding nothing but spaces.
    fn skip_blank_lines(&mut self) {
        loop {
            let mut i = self.pos;
            while self.peek_at(i) == Some(b' ') {
                i += 1;
            }
            match self.peek_at(i) {
                Some(b'\n') => self.pos = i + 1,
                None => {
                    self.pos = i;
                    return;
                }
                Some(_) => return,
            }
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    /// The rest of the line must be spaces; moves to the next line.
    fn end_of_line(&mut self) -> Option<()> {
        self.skip_spaces();
        match self.peek() {
            None => Some(()),
            Some(b'\n') => {
                self.pos += 1;
                Some(())
            }
            Some(_) => None,
        }
    }

    fn count_node(&mut self) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= MAX_FAST_NODES).then_some(())
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_FAST_DEPTH).then_some(())
    }

    /// `-` followed by a space, a line end or the end of input.
    fn at_dash_indicator(&self) -> bool {
        self.peek() == Some(b'-') && matches!(self.peek_at(self.pos + 1), None | Some(b' ' | b'\n'))
    }

    /// A block mapping or sequence whose first line starts at column `n` (`pos` is at
    /// the line start).
    fn block_collection(&mut self, n: usize) -> Option<Doc<'a>> {
        self.pos += n;
        if self.at_dash_indicator() {
            self.block_sequence(n)
        } else {
            let key = self.block_key()?;
            self.block_mapping(n, key)
        }
    }

    /// A block mapping at column `n` whose first key has just been read.
    fn block_mapping(&mut self, n: usize, first_key: Cow<'a, str>) -> Option<Doc<'a>> {
        self.enter()?;
        self.count_node()?;
        let base = self.entries.len();
        let mut key = first_key;
        loop {
            let value = self.value(n, Ctx::Map)?;
            self.entries.push((key, value));
            self.skip_blank_lines();
            if self.eof() || self.at_document_marker() {
                break;
            }
            let indent = self.indent();
            if indent < n {
                break;
            }
            if indent > n {
                return None;
            }
            self.pos += n;
            key = self.block_key()?;
        }
        self.depth -= 1;
        unique_keys(self.entries.drain(base..).collect())
    }

    /// A block sequence at column `n`; `pos` is at its first `-`.
    fn block_sequence(&mut self, n: usize) -> Option<Doc<'a>> {
        self.enter()?;
        self.count_node()?;
        let base = self.items.len();
        loop {
            self.pos += 1; // the `-`
            let item = self.value(n, Ctx::Seq)?;
            self.items.push(item);
            self.skip_blank_lines();
            if self.eof() || self.at_document_marker() {
                break;
            }
            let indent = self.indent();
            if indent < n {
                break;
            }
            if indent > n {
                return None;
            }
            let line = self.pos;
            self.pos += n;
            if !self.at_dash_indicator() {
                // The next key of a mapping this sequence is a value of, at the same
                // column: that mapping decides.
                self.pos = line;
                break;
            }
        }
        self.depth -= 1;
        Some(Doc::Seq(self.items.drain(base..).collect()))
    }

    /// A block mapping key and its `:`; the `:` must be followed by a space or a line end.
    fn block_key(&mut self) -> Option<Cow<'a, str>> {
        let start = self.pos;
        let key = match self.peek()? {
            b'"' => self.json_string()?,
            _ => {
                let token = self.plain_token_text();
                if classify_plain(token)? != Plain::Str {
                    return None;
                }
                Cow::Borrowed(token)
            }
        };
        if self.pos - start > MAX_KEY_BYTES || self.peek() != Some(b':') {
            return None;
        }
        self.pos += 1;
        matches!(self.peek(), None | Some(b' ' | b'\n')).then_some(key)
    }

    /// The longest run of plain-scalar bytes at `pos` (possibly empty).
    fn plain_token_text(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if plain_byte(c)
                || c == b'~'
                || (c == b'+' && self.pos > start && matches!(self.b[self.pos - 1], b'e' | b'E'))
                || (c == b':' && self.peek_at(self.pos + 1).is_some_and(plain_byte))
            {
                self.pos += 1;
            } else {
                break;
            }
        }
        &self.s[start..self.pos]
    }

    /// The value after `key:` (in a mapping at column `n`) or after `-` (in a sequence
    /// at column `n`). Leaves `pos` at the start of the line after the value.
    fn value(&mut self, n: usize, ctx: Ctx) -> Option<Doc<'a>> {
        self.skip_spaces();
        match self.peek() {
            None | Some(b'\n') => {
                self.eat_newline();
                self.nested_value(n, ctx)
            }
            Some(b'{' | b'[') => {
                let v = self.flow_value()?;
                self.end_of_line()?;
                Some(v)
            }
            Some(b'|') => self.literal_block(n),
            Some(b'-') if self.at_dash_indicator() => {
                // `- - item`: a sequence nested compactly in a sequence.
                if ctx != Ctx::Seq {
                    return None;
                }
                let column = self.column();
                self.block_sequence(column)
            }
            Some(_) => {
                let column = self.column();
                let start = self.pos;
                let scalar = self.scalar()?;
                if self.peek() == Some(b':') {
                    // `- key: value`: a mapping nested compactly in a sequence.
                    if ctx != Ctx::Seq {
                        return None;
                    }
                    self.pos = start;
                    let key = self.block_key()?;
                    return self.block_mapping(column, key);
                }
                self.end_of_line()?;
                Some(scalar)
            }
        }
    }

    /// Column of `pos` in its line.
    fn column(&self) -> usize {
        self.pos
            - self.b[..self.pos]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |i| i + 1)
    }

    /// The value of a `key:` or `-` with nothing else on its line: a collection on the
    /// following lines, or null.
    fn nested_value(&mut self, n: usize, ctx: Ctx) -> Option<Doc<'a>> {
        self.skip_blank_lines();
        if self.eof() || self.at_document_marker() {
            self.count_node()?;
            return Some(Doc::Null);
        }
        let indent = self.indent();
        if indent > n {
            return self.block_collection(indent);
        }
        if indent == n && ctx == Ctx::Map {
            let line = self.pos;
            self.pos += n;
            if self.at_dash_indicator() {
                return self.block_sequence(n);
            }
            self.pos = line;
        }
        self.count_node()?;
        Some(Doc::Null)
    }

    /// A JSON string or a plain scalar, in block or flow context.
    fn scalar(&mut self) -> Option<Doc<'a>> {
        self.count_node()?;
        if self.peek() == Some(b'"') {
            return self.json_string().map(Doc::Str);
        }
        let token = self.plain_token_text();
        Some(match classify_plain(token)? {
            Plain::Str => Doc::Str(Cow::Borrowed(token)),
            Plain::Int(i) => Doc::Int(i),
            Plain::UInt(u) => Doc::UInt(u),
            Plain::Float(f) => Doc::Float(f),
            Plain::Bool(b) => Doc::Bool(b),
            Plain::Null => Doc::Null,
        })
    }

    /// A double-quoted scalar on one line that is also a JSON string, with only the
    /// escapes JSON and YAML share.
    fn json_string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i += find_string_stop(self.b.get(i..)?)?;
            match self.b[i] {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                _ => return None,
            }
        }
        self.pos = i + 1;
        let raw = &self.s[start..i];
        if !escaped {
            return Some(Cow::Borrowed(raw));
        }
        unescape(raw).map(Cow::Owned)
    }
    /// Enters a flow collection at its opening bracket. `Some(true)` when it is empty
    /// (and already closed again).
    fn open_flow(&mut self, close: u8) -> Option<bool> {
        self.enter()?;
        self.count_node()?;
        self.pos += 1;
        self.skip_spaces();
        if self.peek() == Some(close) {
            self.pos += 1;
            self.depth -= 1;
            return Some(true);
        }
        Some(false)
    }

    /// After a flow item: a `,` and another item, or the closing bracket. `Some(true)`
    /// when the collection closed; `None` (give up) for anything else, including an
    /// empty item (`[a,,b]`, `[a,]`).
    fn flow_next(&mut self, close: u8) -> Option<bool> {
        self.skip_spaces();
        match self.peek()? {
            b',' => {
                self.pos += 1;
                self.skip_spaces();
                let next = self.peek()?;
                if next == close || next == b',' {
                    None
                } else {
                    Some(false)
                }
            }
            c if c == close => {
                self.pos += 1;
                Some(true)
            }
            _ => None,
        }
    }

    /// A flow collection or scalar on the current line.
    fn flow_value(&mut self) -> Option<Doc<'a>> {
        match self.peek()? {
            b'{' => {
                let base = self.entries.len();
                if self.open_flow(b'}')? {
                    return Some(Doc::Map(Vec::new()));
                }
                loop {
                    let start = self.pos;
                    let key = if self.peek() == Some(b'"') {
                        let key = self.json_string()?;
                        if self.peek() != Some(b':') {
                            return None;
                        }
                        key
                    } else {
                        let token = self.plain_token_text();
                        if classify_plain(token)? != Plain::Str
                            || self.peek() != Some(b':')
                            || self.peek_at(self.pos + 1) != Some(b' ')
                        {
                            return None;
                        }
                        Cow::Borrowed(token)
                    };
                    if self.pos - start > MAX_KEY_BYTES {
                        return None;
                    }
                    self.pos += 1; // the `:`
                    self.skip_spaces();
                    let value = self.flow_value()?;
                    self.entries.push((key, value));
                    if self.flow_next(b'}')? {
                        break;
                    }
                }
                self.depth -= 1;
                unique_keys(self.entries.drain(base..).collect())
            }
            b'[' => {
                let base = self.items.len();
                if self.open_flow(b']')? {
                    return Some(Doc::Seq(Vec::new()));
                }
                loop {
                    let item = self.flow_value()?;
                    self.items.push(item);
                    if self.flow_next(b']')? {
                        break;
                    }
                }
                self.depth -= 1;
                Some(Doc::Seq(self.items.drain(base..).collect()))
            }
            _ => {
                let v = self.scalar()?;
                // A scalar followed by `:` would be a single-pair mapping or a key.
                if self.peek() == Some(b':') {
                    return None;
                }
                Some(v)
            }
        }
    }

    /// A literal block scalar (`|`, `|-`, `|+`, optionally with an indentation
    /// indicator) that is a value in a collection at column `n`.
    fn literal_block(&mut self, n: usize) -> Option<Doc<'a>> {
        self.count_node()?;
        self.pos += 1; // the `|`
        let mut chomp = b' ';
        let mut explicit = None;
        for _ in 0..2 {
            match self.peek() {
                Some(c @ (b'-' | b'+')) if chomp == b' ' => {
                    chomp = c;
                    self.pos += 1;
                }
                Some(c @ b'1'..=b'9') if explicit.is_none() => {
                    explicit = Some(usize::from(c - b'0'));
                    self.pos += 1;
                }
                _ => break,
            }
        }
        self.skip_spaces();
        if self.peek() != Some(b'\n') {
            return None;
        }
        self.pos += 1;

        // The content indentation: explicit, or that of the first non-empty line.
        let mut leading_spaces = 0;
        let content_indent = match explicit {
            Some(m) => n + m,
            None => {
                let mut i = self.pos;
                loop {
                    let spaces = self.b[i..].iter().take_while(|&&c| c == b' ').count();
                    match self.peek_at(i + spaces) {
                        Some(b'\n') => {
                            leading_spaces = leading_spaces.max(spaces);
                            i += spaces + 1;
                        }
                        None => return None,
                        Some(_) => break spaces,
                    }
                }
            }
        };
        if content_indent <= n || leading_spaces > content_indent {
            return None;
        }

        let mut out = String::new();
        let mut seen_text = false;
        let mut pending_breaks = 0;
        loop {
            if self.eof() || self.at_document_marker() {
                break;
            }
            let line_start = self.pos;
            let line_end = self.b[line_start..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(self.b.len(), |i| line_start + i);
            let spaces = self.b[line_start..line_end]
                .iter()
                .take_while(|&&c| c == b' ')
                .count();
            let blank = line_start + spaces == line_end;
            if blank && line_end == self.b.len() {
                // Trailing spaces without a line break: leave to saphyr.
                return None;
            }
            if blank && spaces <= content_indent {
                // An empty line: its break is content, subject to chomping at the end.
                pending_breaks += 1;
            } else if spaces < content_indent {
                break;
            } else {
                if blank && !seen_text {
                    // Leading lines of spaces beyond the indentation: leave to saphyr.
                    return None;
                }
                if line_end == self.b.len() {
                    // A last line without its line break: leave to saphyr.
                    return None;
                }
                if seen_text {
                    out.push('\n');
                }
                out.extend(std::iter::repeat_n('\n', pending_breaks));
                pending_breaks = 0;
                out.push_str(&self.s[line_start + content_indent..line_end]);
                seen_text = true;
            }
            self.pos = line_end;
            self.eat_newline();
        }
        if !seen_text {
            return None;
        }
        match chomp {
            b'-' => {}
            b'+' => out.extend(std::iter::repeat_n('\n', pending_breaks + 1)),
            _ => out.push('\n'),
        }
        Some(Doc::Str(Cow::Owned(out)))
    }
}

/// The first `"`, `\\`, line feed or tab in `b`, eight bytes at a time.
fn find_string_stop(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    let has = |word: u64, byte: u8| {
        let x = word ^ (ONES * u64::from(byte));
        x.wrapping_sub(ONES) & !x & (ONES << 7)
    };
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        if has(word, b'"') | has(word, b'\\') | has(word, b'\n') | has(word, b'\t') != 0 {
            break;
        }
        at += 8;
    }
    b[at..]
        .iter()
        .position(|&c| matches!(c, b'"' | b'\\' | b'\n' | b'\t'))
        .map(|i| at + i)
}

/// The mapping of `entries`; `None` when a key repeats.
fn unique_keys<'a>(entries: Vec<(Cow<'a, str>, Doc<'a>)>) -> Option<Doc<'a>> {
    let unique = if entries.len() <= 16 {
        entries
            .iter()
            .enumerate()
            .all(|(i, (k, _))| entries[..i].iter().all(|(other, _)| other != k))
    } else {
        let mut keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_ref()).collect();
        keys.sort_unstable();
        keys.windows(2).all(|w| w[0] != w[1])
    };
    unique.then_some(Doc::Map(entries))
}

/// Decodes the escapes of a JSON string body; `None` for anything YAML might read
/// differently (surrogate escapes, which YAML does not pair up).
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let esc = *rest.as_bytes().get(at + 1)?;
        if !esc.is_ascii() {
            return None;
        }
        rest = &rest[at + 2..];
        out.push(match esc {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hex = rest.get(..4)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                rest = &rest[4..];
                char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
            }
            _ => return None,
        });
    }
    out.push_str(rest);
    Some(out)
}
