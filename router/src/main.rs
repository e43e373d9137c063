//! The `clawctl-router` binary: read the configuration, start the front doors, serve
//! until SIGTERM.

fn main() -> std::process::ExitCode {
    eprintln!("clawctl-router: not wired yet");
    std::process::ExitCode::FAILURE
}
