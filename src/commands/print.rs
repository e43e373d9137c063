//! What every command prints the same way: warnings, the API server's warnings, JSON.

/// Prints warnings to stderr, one `warning: ...` line each, unless `--quiet`.
pub(super) fn warnings(warnings: &[String], quiet: bool) {
    if quiet {
        return;
    }
    let color = crate::output::color_stderr();
    for w in warnings {
        eprintln!("{}", crate::output::diagnostics::warning_line(w, color));
    }
}

/// Shows what the API server warned about since the last call (`Warning` headers on
/// applies, dry runs and diffs), each once with the object it is about, even under
/// `--quiet`: like kubectl, a warning is not progress chatter. Returns them.
pub(super) fn api_warnings(
    cluster: &crate::cluster::Cluster,
) -> Vec<crate::cluster::warnings::ApiWarning> {
    let warnings = cluster.warnings.take();
    let color = crate::output::color_stderr();
    for w in &warnings {
        let text = format!("the API server warns about {}: {}", w.object, w.message);
        eprintln!("{}", crate::output::diagnostics::warning_line(&text, color));
    }
    warnings
}

/// Writes `value` as pretty JSON and a newline to stdout.
pub(super) fn json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)?;
    writeln!(stdout)?;
    stdout.flush()?;
    Ok(())
}
