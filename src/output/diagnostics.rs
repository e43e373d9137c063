//! Prints diagnostics: one `file:line:column: path: message` line each, followed by the
//! source line and a caret, or as the JSON list that `validate -o json` documents.

use std::collections::HashMap;
use std::io::Write;

use crate::diag::Diagnostics;

/// Writes `diags` for a person: the error line, then the offending source line.
pub fn write_human(out: &mut dyn Write, diags: &Diagnostics, color: bool) -> std::io::Result<()> {
    let mut sources: HashMap<&str, Option<String>> = HashMap::new();
    let (red, bold, dim, reset) = if color {
        ("\x1b[31m", "\x1b[1m", "\x1b[2m", "\x1b[0m")
    } else {
        ("", "", "", "")
    };
    for d in &diags.0 {
        writeln!(out, "{red}{bold}error{reset}{bold}: {d}{reset}")?;
        if d.line == 0 {
            continue;
        }
        let source = sources
            .entry(d.file.as_str())
            .or_insert_with(|| std::fs::read_to_string(&d.file).ok());
        let Some(line) = source
            .as_deref()
            .and_then(|s| s.lines().nth(d.line as usize - 1))
        else {
            continue;
        };
        if line.len() > 200 {
            continue;
        }
        let number = d.line.to_string();
        let pad = " ".repeat(number.len());
        // Columns count characters; tabs are shown as they are so the caret lines up.
        let lead: String = line
            .chars()
            .take(d.column.saturating_sub(1) as usize)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        writeln!(out, "{dim}{number} |{reset} {line}")?;
        writeln!(out, "{dim}{pad} |{reset} {lead}{red}^{reset}")?;
    }
    let n = diags.0.len();
    if n > 1 {
        writeln!(
            out,
            "{red}{bold}error{reset}{bold}: {n} problems found; nothing was changed{reset}"
        )?;
    }
    Ok(())
}

/// One warning for a person: `warning: <text>`, yellow on a terminal.
pub fn warning_line(text: &str, color: bool) -> String {
    if color {
        format!("\x1b[33m\x1b[1mwarning\x1b[0m\x1b[1m: {text}\x1b[0m")
    } else {
        format!("warning: {text}")
    }
}

/// Writes `diags` as a JSON list of {file, line, column, path, message}.
pub fn write_json(out: &mut dyn Write, diags: &Diagnostics) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &diags.0)?;
    writeln!(out)
}
