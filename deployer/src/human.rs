//! Durations as people read them.

/// `3d 4h`, `5h 2m`, `42s`: enough to tell a fresh key from a stale one.
pub fn age(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 && s % 60 == 0 {
        format!("{m}m")
    } else if m > 0 {
        format!("{m}m {}s", s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_well() {
        assert_eq!(age(42), "42s");
        assert_eq!(age(3 * 60 + 5), "3m 5s");
        assert_eq!(age(600), "10m");
        assert_eq!(age(5 * 3600 + 120), "5h 2m");
        assert_eq!(age(3 * 86_400 + 4 * 3600), "3d 4h");
        assert_eq!(age(-5), "0s");
    }
}
