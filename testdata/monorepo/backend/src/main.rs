use std::env;

fn main() {
    let port = env::var("BACKEND_PORT").unwrap_or_else(|_| "8080".to_string());
    println!("backend listening on {port}");
}
