//! Confirmations. Only on a terminal: without one, a command that would ask fails and
//! names `--yes` (DESIGN §5).

use std::io::IsTerminal;

use crate::error::InvalidInput;

fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks a yes/no question (default no). `yes` answers it in advance.
pub fn confirm(question: &str, yes: bool) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    if !interactive() {
        return Err(InvalidInput(format!(
            "{question} needs confirmation, and there is no terminal to ask on; pass --yes to go ahead"
        ))
        .into());
    }
    Ok(dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()?)
}

/// Asks the user to type `expected` (for deleting data). `yes` answers it in advance.
pub fn confirm_typed(question: &str, expected: &str, yes: bool) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    if !interactive() {
        return Err(InvalidInput(format!(
            "{question} needs you to type {expected:?}, and there is no terminal to ask on; \
             pass --yes to go ahead"
        ))
        .into());
    }
    let typed: String = dialoguer::Input::new()
        .with_prompt(format!("{question}\nType {expected:?} to confirm"))
        .allow_empty(true)
        .interact_text()?;
    Ok(typed.trim() == expected)
}
