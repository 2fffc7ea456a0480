//! Recorded times as people read them: in the local time zone, with the offset that
//! date had there (`2026-11-30 13:05 +01:00`).
//!
//! Sessions store their times in UTC (RFC 3339, as the writer stamps them) and their ids
//! start with the UTC creation time; only what is shown is local. The zone is always a
//! parameter, so that tests can fix one; [`system_zone`] is the one to show by: `TZ`,
//! else `/etc/localtime`, else UTC ([`LazyZone`] finds it only once a time is shown). Every time carries its offset, UTC too (`+00:00`),
//! so that no time on screen or in an export is ambiguous.

use std::sync::OnceLock;

pub use jiff::tz::TimeZone;
use jiff::{Timestamp, civil};

/// The zone times are shown in: `TZ`, else the system's (`/etc/localtime`), else UTC.
pub fn system_zone() -> TimeZone {
    TimeZone::system()
}

/// The zone to show times in, found the first time a time is shown: finding the
/// system's zone reads the time zone database (jiff indexes every zone name on disk),
/// which a screen that shows no time, like the workbench's first frame, need not wait for.
#[derive(Debug, Default)]
pub struct LazyZone(OnceLock<TimeZone>);

impl LazyZone {
    /// Always `zone` (tests, a zone given on purpose).
    pub fn fixed(zone: TimeZone) -> Self {
        Self(OnceLock::from(zone))
    }

    /// The zone: the fixed one, else [`system_zone`], found now if it was not yet.
    pub fn get(&self) -> &TimeZone {
        self.0.get_or_init(system_zone)
    }

    /// The zone if it is already known, without finding it.
    pub fn known(&self) -> Option<&TimeZone> {
        self.0.get()
    }
}

/// An RFC 3339 time as `2026-11-30 13:05 +01:00` in `zone`; a text that is not one is
/// shown as it is.
pub fn readable(rfc3339: &str, zone: &TimeZone) -> String {
    match rfc3339.parse::<Timestamp>() {
        Ok(t) => minutes(t, zone),
        Err(_) => rfc3339.to_string(),
    }
}

/// An RFC 3339 time as RFC 3339 again, in `zone` with its offset and to the millisecond
/// (`2026-11-30T13:05:07.890+01:00`), for machines; a text that is not one is kept.
pub fn rfc3339_in(rfc3339: &str, zone: &TimeZone) -> String {
    match rfc3339.parse::<Timestamp>() {
        Ok(t) => t
            .to_zoned_datetime(zone.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%.3f%:z")
            .to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// The creation time a session id starts with (`YYYYMMDD-HHMMSS-…`, UTC) as
/// [`readable`] shows it; `None` when the id does not start with one.
pub fn readable_id(id: &str, zone: &TimeZone) -> Option<String> {
    let stamp = id.get(..15)?;
    let utc = civil::DateTime::strptime("%Y%m%d-%H%M%S", stamp).ok()?;
    let t = utc.to_zoned_datetime(TimeZone::UTC).ok()?.timestamp();
    Some(minutes(t, zone))
}

fn minutes(t: Timestamp, zone: &TimeZone) -> String {
    t.to_zoned_datetime(zone.clone())
        .strftime("%Y-%m-%d %H:%M %:z")
        .to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Zones from their POSIX rules, so that no tz database is needed.
    fn zone(name: &str) -> TimeZone {
        let rule = match name {
            "Europe/Paris" => "CET-1CEST,M3.5.0,M10.5.0/3",
            "Asia/Kolkata" => "IST-5:30",
            "America/New_York" => "EST5EDT,M3.2.0,M11.1.0",
            _ => unreachable!("{name}"),
        };
        TimeZone::posix(rule).unwrap()
    }

    #[test]
    fn a_lazy_zone_is_the_systems_found_on_first_use_or_the_one_fixed() {
        let lazy = LazyZone::default();
        assert!(lazy.known().is_none(), "nothing is read before a time is shown");
        assert_eq!(lazy.get(), &system_zone());
        assert!(lazy.known().is_some());
        let paris = zone("Europe/Paris");
        let fixed = LazyZone::fixed(paris.clone());
        assert_eq!(fixed.known(), Some(&paris));
        assert_eq!(fixed.get(), &paris);
    }

    #[test]
    fn times_are_shown_in_the_zone_with_the_offset_that_date_had() {
        let paris = zone("Europe/Paris");
        assert_eq!(
            readable("2026-11-30T12:05:07.890Z", &paris),
            "2026-11-30 13:05 +01:00"
        );
        // Summer time: the offset is the one of the date shown, not of today.
        assert_eq!(
            readable("2026-07-01T12:05:00.000Z", &paris),
            "2026-07-01 14:05 +02:00"
        );
        // Across midnight, into the next day.
        assert_eq!(
            readable("2025-03-04T23:30:00Z", &zone("Asia/Kolkata")),
            "2025-03-05 05:00 +05:30"
        );
        assert_eq!(
            readable("2025-03-04T05:06:07.890Z", &zone("America/New_York")),
            "2025-03-04 00:06 -05:00"
        );
        assert_eq!(
            readable("2025-03-04T05:06:07.890Z", &TimeZone::UTC),
            "2025-03-04 05:06 +00:00"
        );
    }

    #[test]
    fn what_is_not_a_time_is_shown_as_it_is() {
        assert_eq!(readable("yesterday", &TimeZone::UTC), "yesterday");
        assert_eq!(readable("", &TimeZone::UTC), "");
        assert_eq!(rfc3339_in("yesterday", &TimeZone::UTC), "yesterday");
    }

    #[test]
    fn machine_times_keep_rfc_3339_with_the_local_offset() {
        let paris = zone("Europe/Paris");
        assert_eq!(
            rfc3339_in("2025-03-04T05:06:08.000Z", &paris),
            "2025-03-04T06:06:08.000+01:00"
        );
        assert_eq!(
            rfc3339_in("2025-03-04T05:06:08.5Z", &TimeZone::UTC),
            "2025-03-04T05:06:08.500+00:00"
        );
        // The same instant as the UTC text it came from.
        let back: Timestamp = rfc3339_in("2025-03-04T05:06:08.123Z", &paris).parse().unwrap();
        assert_eq!(back, "2025-03-04T05:06:08.123Z".parse::<Timestamp>().unwrap());
    }

    #[test]
    fn session_ids_are_read_as_utc_and_shown_local() {
        let paris = zone("Europe/Paris");
        assert_eq!(
            readable_id("20250103-091500-c0de", &paris).as_deref(),
            Some("2025-01-03 10:15 +01:00")
        );
        assert_eq!(
            readable_id("20250103-091500-c0de", &TimeZone::UTC).as_deref(),
            Some("2025-01-03 09:15 +00:00")
        );
        assert_eq!(readable_id("my-session", &paris), None);
        assert_eq!(readable_id("20251399-999999-x", &paris), None);
    }
}
