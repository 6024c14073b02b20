//! The state one virtual user carries between requests — its captures, its data rows, its
//! seeded random stream, its connection — and how templates read it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::http1;
use crate::config::template::Vars;
use crate::config::{Dataset, Profile};

/// The state one virtual user carries between requests.
pub struct UserState {
    pub id: u64,
    pub vars: Vec<Option<String>>,
    /// This user's row in each data set.
    rows: Vec<usize>,
    pub rng: ChaCha8Rng,
    pub iteration: u64,
    /// Per scenario: whether its `on_start` steps have succeeded for this user.
    pub started: Vec<bool>,
    /// This user's own keep-alive connection (direct HTTP/1.1 client).
    pub conn: Option<http1::Conn>,
    /// Where this user's requests are serialized (direct client), reused.
    pub scratch: Vec<u8>,
}

/// SplitMix64: derives well-spread seeds from (seed, trial, user) without a shared generator.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl UserState {
    pub fn new(profile: &Profile, id: u64, seed: u64, trial: u32) -> Self {
        UserState {
            id,
            vars: vec![None; profile.vars.len()],
            rows: profile
                .datasets
                .iter()
                .map(|d| (id as usize) % d.rows.len().max(1))
                .collect(),
            rng: ChaCha8Rng::seed_from_u64(mix(seed ^ mix(trial as u64 ^ mix(id)))),
            iteration: 0,
            started: vec![false; profile.scenarios.len()],
            conn: None,
            scratch: Vec::new(),
        }
    }
}

/// A user's state with the profile's data sets, as templates see it.
pub(super) struct Bound<'a> {
    pub user: &'a mut UserState,
    pub data: &'a [Dataset],
}

impl Vars for Bound<'_> {
    fn var(&self, slot: usize) -> Option<&str> {
        self.user.vars.get(slot)?.as_deref()
    }
    fn data(&self, set: usize, column: usize) -> &str {
        let Some(d) = self.data.get(set) else {
            return "";
        };
        d.rows
            .get(self.user.rows[set])
            .and_then(|r| r.get(column))
            .map_or("", String::as_str)
    }
    fn user_id(&self) -> u64 {
        self.user.id
    }
    fn iteration(&self) -> u64 {
        self.user.iteration
    }
    fn random_u64(&mut self) -> u64 {
        self.user.rng.gen()
    }
}
