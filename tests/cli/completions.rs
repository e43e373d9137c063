//! The committed completions under completions/ match the clap definitions.

use crate::harness::{Test, repo};

const SHELLS: &[(&str, &str)] = &[
    ("bash", "clawctl.bash"),
    ("zsh", "_clawctl"),
    ("fish", "clawctl.fish"),
    ("powershell", "_clawctl.ps1"),
    ("elvish", "clawctl.elv"),
];

#[test]
fn committed_completions_match_the_cli() {
    let update = std::env::var_os("CLAWCTL_UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (shell, file) in SHELLS {
        let generated = Test::new().args(&["completions", shell]).success().stdout;
        assert!(
            generated.contains("validate") && generated.contains("rollback"),
            "{shell}: commands missing"
        );
        let path = repo().join("completions").join(file);
        if update {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, &generated).expect("write");
            continue;
        }
        if std::fs::read_to_string(&path).ok().as_deref() != Some(generated.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "completions drifted from the CLI: {stale:?}; regenerate with CLAWCTL_UPDATE_GOLDEN=1 cargo test completions"
    );
}

#[test]
fn unknown_shell_is_a_usage_error() {
    Test::new().args(&["completions", "tcsh"]).fails(2);
}
