//! Writes a synthetic roster: `cargo run --example roster -- DIR USERS UNITS SEED`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(args.get(1).map(String::as_str).unwrap_or("."));
    let users = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(300);
    let units = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(12);
    let seed = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1);
    let roster = loggkoll::simulate::org::synthetic(users, units, seed);
    if let Err(e) = loggkoll::simulate::org::write_csv(&roster, &dir) {
        eprintln!("error: {e}");
        std::process::exit(3);
    }
}
