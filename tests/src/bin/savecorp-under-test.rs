//! The `savecorp` command, built inside the `tests` package so that integration tests can run
//! it as a separate process (`CARGO_BIN_EXE_savecorp-under-test`) and send it signals.

fn main() -> std::process::ExitCode {
    api::cli::main()
}
