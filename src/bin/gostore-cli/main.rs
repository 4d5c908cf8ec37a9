//! gostore-cli: the command-line client (issue 5). Placeholder until it lands.

fn main() {
    eprintln!("gostore-cli is not built yet");
    std::process::exit(1);
}
