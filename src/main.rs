use std::process::ExitCode;

fn main() -> ExitCode {
    redes::cli::main()
}
