fn main() {
    let start = chrono::DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    loggkoll::simulate::logs::bulk_export(
        std::path::Path::new("/tmp/gen/log.csv"),
        1_000_000,
        start,
        30_000,
        5000,
        400,
    )
    .unwrap();
}
