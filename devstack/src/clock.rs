//! Wall-clock helpers for `requestContext.time` / `timeEpoch` and Lambda deadlines.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `requestContext.time` as API Gateway writes it: `12/Mar/2020:19:03:58 +0000` (CLF, UTC).
pub fn clf_time(epoch_ms: u64) -> String {
    let secs = epoch_ms / 1000;
    let (year, month, day) = mcpctl_stack::time::civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{day:02}/{}/{year:04}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// `YYYY/MM/DD` (UTC), the date prefix of a Lambda log stream name.
pub fn date_path(epoch_ms: u64) -> String {
    let (year, month, day) = mcpctl_stack::time::civil_from_days((epoch_ms / 86_400_000) as i64);
    format!("{year:04}/{month:02}/{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_aws_documentation_example() {
        // timeEpoch 1583348638390 is 2020-03-04T19:03:58.390Z.
        assert_eq!(clf_time(1_583_348_638_390), "04/Mar/2020:19:03:58 +0000");
        assert_eq!(clf_time(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(clf_time(951_782_400_000), "29/Feb/2000:00:00:00 +0000");
    }
}
