//! The CPU time this process has used, for benches that compare the work per item of two
//! sides run one after the other: steadier than their rates on a machine shared with others.

/// CPU time (user + system) this process has used, in ms (10 ms resolution).
pub fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks * 10.0
}
