//! The `vedetta` binary: parse the command line and hand over to the library.

#![forbid(unsafe_code)]

use clap::Parser;

fn main() -> std::process::ExitCode {
    vedetta::cli::main(vedetta::cli::Cli::parse())
}
