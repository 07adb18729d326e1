//! `savecorp`: see `savecorp --help`.

fn main() -> std::process::ExitCode {
    api::cli::main()
}
