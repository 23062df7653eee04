//! What seeded members are made of: names, real cities with their
//! coordinates, bio fragments. A small deterministic generator keeps runs
//! reproducible.

pub const WOMEN: &[&str] = &[
    "Emma", "Léa", "Chloé", "Manon", "Camille", "Sarah", "Inès", "Jade", "Louise", "Alice",
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Sofia", "Lucía", "Martina", "Giulia", "Aurora",
    "Hannah", "Lena", "Marie", "Anna", "Yuki", "Sakura", "Hana", "Mei", "Xiaomei", "Li Na", "Fang",
    "Jing", "Ana", "Beatriz", "Maya", "Priya", "Aisha", "Zara", "Nadia", "Elena",
];

pub const MEN: &[&str] = &[
    "Lucas", "Hugo", "Louis", "Gabriel", "Arthur", "Jules", "Adam", "Nathan", "Paul", "Léo",
    "Oliver", "George", "Noah", "Leo", "Jack", "Mateo", "Hugo", "Lorenzo", "Leonardo", "Marco",
    "Felix", "Jonas", "Elias", "Paul", "Haruto", "Sota", "Ren", "Wei", "Hao", "Jun", "Chen", "Tao",
    "João", "Pedro", "Arjun", "Omar", "Karim", "Ivan", "Nikolai", "Sam",
];

/// (city, latitude, longitude, IANA time zone)
pub const CITIES: &[(&str, f64, f64, &str)] = &[
    ("Paris", 48.8566, 2.3522, "Europe/Paris"),
    ("Lyon", 45.7640, 4.8357, "Europe/Paris"),
    ("Marseille", 43.2965, 5.3698, "Europe/Paris"),
    ("London", 51.5072, -0.1276, "Europe/London"),
    ("Berlin", 52.5200, 13.4050, "Europe/Berlin"),
    ("Madrid", 40.4168, -3.7038, "Europe/Madrid"),
    ("Rome", 41.9028, 12.4964, "Europe/Rome"),
    ("Amsterdam", 52.3676, 4.9041, "Europe/Amsterdam"),
    ("New York", 40.7128, -74.0060, "America/New_York"),
    ("Los Angeles", 34.0522, -118.2437, "America/Los_Angeles"),
    ("Toronto", 43.6532, -79.3832, "America/Toronto"),
    ("Mexico City", 19.4326, -99.1332, "America/Mexico_City"),
    ("São Paulo", -23.5505, -46.6333, "America/Sao_Paulo"),
    ("Tokyo", 35.6762, 139.6503, "Asia/Tokyo"),
    ("Seoul", 37.5665, 126.9780, "Asia/Seoul"),
    ("Shanghai", 31.2304, 121.4737, "Asia/Shanghai"),
    ("Beijing", 39.9042, 116.4074, "Asia/Shanghai"),
    ("Mumbai", 19.0760, 72.8777, "Asia/Kolkata"),
    ("Sydney", -33.8688, 151.2093, "Australia/Sydney"),
    ("Cairo", 30.0444, 31.2357, "Africa/Cairo"),
];

const OPENERS: &[&str] = &[
    "Coffee first, then adventures.",
    "Weekend hiker, weekday coder.",
    "I make a mean risotto.",
    "Looking for someone to share playlists with.",
    "Museums, markets and long walks.",
    "Amateur photographer, professional daydreamer.",
    "Trying every ramen place in town.",
    "Dog person, but cats are fine too.",
];

const CLOSERS: &[&str] = &[
    "Tell me your favourite book.",
    "Let's find the best view in the city.",
    "Bonus points if you dance badly.",
    "Say hi with a song recommendation.",
    "Board games tonight?",
    "",
];

/// A tiny deterministic generator (SplitMix64): the same seed, the same members.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % (n.max(1) as u64)) as usize
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal (mean 0, deviation 1), from the sum of uniforms.
    pub fn normal(&mut self) -> f64 {
        (0..6).map(|_| self.unit()).sum::<f64>() - 3.0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

pub fn bio(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(OPENERS), rng.pick(CLOSERS))
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_in_range() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
            let u = a.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(a.below(5) < 5);
            b.unit();
            b.below(5);
        }
    }
}
