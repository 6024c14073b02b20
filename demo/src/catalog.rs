//! The deterministic show catalog (the demo's "database" rows): 200 shows
//! derived from their id, plus the richer detail view built per request.

use serde::Serialize;

/// Number of shows in the catalog (ids 1..=SHOW_COUNT).
pub const SHOW_COUNT: u32 = 200;

const VENUES: [(&str, &str); 16] = [
    ("The Roundhouse", "London"),
    ("Royal Albert Hall", "London"),
    ("O2 Academy Brixton", "London"),
    ("Bridgewater Hall", "Manchester"),
    ("Albert Hall Manchester", "Manchester"),
    ("Usher Hall", "Edinburgh"),
    ("The Queen's Hall", "Edinburgh"),
    ("Barrowland Ballroom", "Glasgow"),
    ("SEC Armadillo", "Glasgow"),
    ("Colston Hall", "Bristol"),
    ("Symphony Hall", "Birmingham"),
    ("O2 Institute", "Birmingham"),
    ("Leeds Grand Theatre", "Leeds"),
    ("Rock City", "Nottingham"),
    ("Olympia Theatre", "Dublin"),
    ("Vicar Street", "Dublin"),
];

const ADJECTIVES: [&str; 20] = [
    "Midnight",
    "Electric",
    "Silver",
    "Velvet",
    "Golden",
    "Wild",
    "Hidden",
    "Crimson",
    "Northern",
    "Lonely",
    "Brilliant",
    "Restless",
    "Neon",
    "Quiet",
    "Burning",
    "Paper",
    "Secret",
    "Broken",
    "Endless",
    "Little",
];

const NOUNS: [&str; 20] = [
    "Orchestra",
    "Echoes",
    "Parade",
    "Lanterns",
    "Harbour",
    "Revival",
    "Circus",
    "Tides",
    "Machines",
    "Choir",
    "Horizons",
    "Sessions",
    "Ballet",
    "Rebels",
    "Gardens",
    "Quartet",
    "Nights",
    "Voices",
    "Comedy Hour",
    "Frontier",
];

const SUFFIXES: [&str; 5] = ["", " Live", ": The Tour", " in Concert", " (Matinee)"];

const TAGS: [&str; 12] = [
    "rock",
    "jazz",
    "comedy",
    "theatre",
    "classical",
    "family",
    "festival",
    "pop",
    "hip-hop",
    "opera",
    "dance",
    "indie",
];

const FIRST_NAMES: [&str; 12] = [
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Finn", "Grace", "Hugo", "Isla", "Jonah", "Kemi", "Luca",
];

const LAST_NAMES: [&str; 12] = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Patel",
    "Brennan",
    "Sato",
    "Kowalski",
    "Haddad",
    "Reyes",
    "Achterberg",
    "Quinn",
    "Novak",
];

const ROLES: [&str; 6] = [
    "lead vocals",
    "guitar",
    "piano",
    "drums",
    "conductor",
    "stand-up",
];

const SECTIONS: [&str; 4] = ["Stalls", "Circle", "Upper Circle", "Balcony"];

/// One row of the shows table, as the list endpoints serialize it.
#[derive(Debug, Clone, Serialize)]
pub struct Show {
    pub id: u32,
    pub title: String,
    pub venue: &'static str,
    pub city: &'static str,
    pub starts_at: String,
    pub price_cents: u32,
    pub available_seats: u32,
    pub tags: Vec<&'static str>,
}

/// A performer on the detail view.
#[derive(Debug, Clone, Serialize)]
pub struct Performer {
    pub name: String,
    pub role: &'static str,
}

/// One section of the seat map summary.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub name: &'static str,
    pub rows: u32,
    pub seats_per_row: u32,
    pub available: u32,
    pub price_cents: u32,
}

/// Seat map summary on the detail view.
#[derive(Debug, Clone, Serialize)]
pub struct SeatMap {
    pub total_seats: u32,
    pub available_seats: u32,
    pub sections: Vec<Section>,
}

/// The detail view of one show.
#[derive(Debug, Clone, Serialize)]
pub struct ShowDetail<'a> {
    #[serde(flatten)]
    pub show: &'a Show,
    pub description: String,
    pub duration_minutes: u32,
    pub performers: Vec<Performer>,
    pub seat_map: SeatMap,
}

/// splitmix64: a cheap, well-mixed hash of an integer.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The `n`-th deterministic pseudo-random value for show `id`.
fn roll(id: u32, n: u64) -> u64 {
    mix(u64::from(id) << 8 ^ n)
}

fn pick<T: Copy>(items: &[T], value: u64) -> T {
    // Lists are non-empty constants; the index is always in range.
    items[(value % items.len() as u64) as usize]
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's civil_from_days).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The sections of show `id`'s venue layout: (name, rows, seats per row).
/// At least 2 sections of at least 10 x 20 seats.
fn layout(id: u32) -> impl Iterator<Item = (&'static str, u32, u32)> {
    let section_count = 2 + (roll(id, 70) % 3) as usize;
    SECTIONS[..section_count]
        .iter()
        .enumerate()
        .map(move |(i, name)| {
            (
                *name,
                10 + (roll(id, 71 + i as u64) % 20) as u32,
                20 + (roll(id, 80 + i as u64) % 20) as u32,
            )
        })
}

/// 2026-01-01 as days since the Unix epoch.
const SEASON_START_DAYS: i64 = 20_454;

fn make_show(id: u32) -> Show {
    let (venue, city) = pick(&VENUES, roll(id, 1));
    let title = format!(
        "{} {}{}",
        pick(&ADJECTIVES, roll(id, 2)),
        pick(&NOUNS, roll(id, 3)),
        pick(&SUFFIXES, roll(id, 4)),
    );
    let (year, month, day) = civil_from_days(SEASON_START_DAYS + (roll(id, 5) % 365) as i64);
    let hour = 14 + roll(id, 6) % 8;
    let minute = if roll(id, 7) % 2 == 0 { 0 } else { 30 };
    let starts_at = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:00Z");
    let price_cents = 1500 + (roll(id, 8) % 120) as u32 * 100 + 50 * (roll(id, 9) % 2) as u32;
    let capacity: u32 = layout(id).map(|(_, rows, per_row)| rows * per_row).sum();
    // Every show has at least 10 seats left, so any valid checkout can succeed.
    let available_seats = 10 + (roll(id, 10) % u64::from(capacity - 9)) as u32;
    let tag_count = 1 + (roll(id, 11) % 3) as usize;
    let mut tags: Vec<&'static str> = Vec::with_capacity(tag_count);
    let mut n = 12;
    while tags.len() < tag_count {
        let tag = pick(&TAGS, roll(id, n));
        if !tags.contains(&tag) {
            tags.push(tag);
        }
        n += 1;
    }
    Show {
        id,
        title,
        venue,
        city,
        starts_at,
        price_cents,
        available_seats,
        tags,
    }
}

/// All shows, ordered by id.
pub struct Catalog {
    shows: Vec<Show>,
}

impl Catalog {
    pub fn new() -> Self {
        Catalog {
            shows: (1..=SHOW_COUNT).map(make_show).collect(),
        }
    }

    pub fn all(&self) -> &[Show] {
        &self.shows
    }

    pub fn get(&self, id: u64) -> Option<&Show> {
        let index = usize::try_from(id.checked_sub(1)?).ok()?;
        self.shows.get(index)
    }

    /// The six "featured" shows (fixed ids, as a cache would hold them).
    pub fn featured(&self) -> Vec<&Show> {
        [7, 23, 42, 88, 131, 176]
            .iter()
            .filter_map(|id| self.get(*id))
            .collect()
    }

    /// Cities with their show counts, most shows first, then by name.
    pub fn active_cities(&self) -> Vec<(&'static str, u32)> {
        let mut counts: Vec<(&'static str, u32)> = Vec::new();
        for show in &self.shows {
            match counts.iter_mut().find(|(city, _)| *city == show.city) {
                Some((_, count)) => *count += 1,
                None => counts.push((show.city, 1)),
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        counts
    }

    /// Shows whose title, venue, city or tags contain `needle` (already
    /// lower-cased); an empty needle matches everything.
    pub fn search(&self, needle: &str) -> Vec<&Show> {
        self.shows
            .iter()
            .filter(|show| {
                needle.is_empty()
                    || show.title.to_lowercase().contains(needle)
                    || show.venue.to_lowercase().contains(needle)
                    || show.city.to_lowercase().contains(needle)
                    || show.tags.iter().any(|tag| tag.contains(needle))
            })
            .collect()
    }
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog::new()
    }
}

/// Builds the detail view of `show` (description, performers, seat map).
pub fn detail(show: &Show) -> ShowDetail<'_> {
    let id = show.id;
    let performer_count = 1 + roll(id, 40) % 4;
    let performers: Vec<Performer> = (0..performer_count)
        .map(|i| Performer {
            name: format!(
                "{} {}",
                pick(&FIRST_NAMES, roll(id, 41 + 2 * i)),
                pick(&LAST_NAMES, roll(id, 42 + 2 * i))
            ),
            role: pick(&ROLES, roll(id, 60 + i)),
        })
        .collect();
    let description = format!(
        "{title} comes to {venue}, {city} for one night only. Expect {tags} \
         from {lead} and friends, with doors opening an hour before the show. \
         Tickets from {pounds}.{pence:02} GBP; {seats} seats still available.",
        title = show.title,
        venue = show.venue,
        city = show.city,
        tags = show.tags.join(", "),
        lead = performers
            .first()
            .map(|p| p.name.as_str())
            .unwrap_or("the company"),
        pounds = show.price_cents / 100,
        pence = show.price_cents % 100,
        seats = show.available_seats,
    );
    let mut sections: Vec<Section> = layout(id)
        .map(|(name, rows, seats_per_row)| Section {
            name,
            rows,
            seats_per_row,
            available: 0,
            price_cents: 0,
        })
        .collect();
    // Front sections cost more; available seats fill from the back (the
    // layout's capacity always covers them, see make_show).
    let count = sections.len() as u32;
    let mut left = show.available_seats;
    for (i, section) in sections.iter_mut().enumerate().rev() {
        section.price_cents = show.price_cents + 500 * (count - 1 - i as u32);
        section.available = left.min(section.rows * section.seats_per_row);
        left -= section.available;
    }
    let total_seats: u32 = sections.iter().map(|s| s.rows * s.seats_per_row).sum();
    ShowDetail {
        show,
        description,
        duration_minutes: 60 + 15 * (roll(id, 90) % 9) as u32,
        performers,
        seat_map: SeatMap {
            total_seats,
            available_seats: show.available_seats - left,
            sections,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_conversion() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(SEASON_START_DAYS), (2026, 1, 1));
        assert_eq!(civil_from_days(SEASON_START_DAYS + 58), (2026, 2, 28));
        assert_eq!(civil_from_days(SEASON_START_DAYS + 59), (2026, 3, 1));
    }

    #[test]
    fn catalog_is_deterministic_and_complete() {
        let a = Catalog::new();
        let b = Catalog::new();
        assert_eq!(a.all().len(), SHOW_COUNT as usize);
        for (x, y) in a.all().iter().zip(b.all()) {
            assert_eq!(x.title, y.title);
            assert_eq!(x.starts_at, y.starts_at);
            assert!(x.available_seats >= 10);
            assert!(!x.tags.is_empty());
        }
        assert_eq!(a.get(0).map(|s| s.id), None);
        assert_eq!(a.get(1).map(|s| s.id), Some(1));
        assert_eq!(a.get(200).map(|s| s.id), Some(200));
        assert!(a.get(201).is_none());
        assert_eq!(a.featured().len(), 6);
        let total: u32 = a.active_cities().iter().map(|(_, n)| n).sum();
        assert_eq!(total, SHOW_COUNT);
    }

    #[test]
    fn detail_seat_map_is_consistent() {
        let catalog = Catalog::new();
        for show in catalog.all() {
            let d = detail(show);
            let sum: u32 = d.seat_map.sections.iter().map(|s| s.available).sum();
            assert_eq!(sum, d.seat_map.available_seats);
            assert_eq!(sum, show.available_seats);
            assert!(d.seat_map.total_seats >= sum);
            assert!(!d.performers.is_empty());
        }
    }
}
