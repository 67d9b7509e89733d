//! Password hashing with argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane), bounded.
//!
//! Each check holds 19 MiB for a CPU-bound tenth of a second. [`PasswordWork`] runs at most a
//! few at once, each in a memory block kept for the next one, so a flood of logins costs a
//! fixed amount of memory instead of 19 MiB per attempt, and waits or is turned away.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use crate::problem::{ErrorCode, Problem};

const MIN_PASSWORD_CHARS: usize = 12;
const MAX_PASSWORD_BYTES: usize = 1024;
/// A stored hash asking for more memory than this is not one of ours: it is refused.
const MAX_BLOCKS: usize = 4 * Params::DEFAULT_M_COST as usize;
const OUTPUT_BYTES: usize = 32;

/// Refuses passwords too short to resist guessing, or too long to hash cheaply.
pub fn check_password_strength(password: &str) -> Result<(), Problem> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "password",
            format!(
                "the password has {chars} characters; use at least {MIN_PASSWORD_CHARS} (a few unrelated words work well)"
            ),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Problem::with_field(
            ErrorCode::TooLong,
            "password",
            format!("the password is longer than {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Argon2 work memory, reused from one hash to the next.
pub(super) type Memory = Vec<Block>;

/// An argon2id PHC string with a fresh random salt, computed in `memory`. CPU-heavy: call it
/// off the async workers.
pub(super) fn hash(password: &str, memory: &mut Memory) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system provides randomness");
    let params = Params::default();
    let mut out = [0u8; OUTPUT_BYTES];
    compute(
        Algorithm::Argon2id,
        Version::V0x13,
        &params,
        password,
        &salt,
        &mut out,
        memory,
    )
    .expect("argon2 with default parameters accepts any password");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).expect("default parameters encode"),
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).expect("32 bytes make a valid output")),
    }
    .to_string()
}

/// Checks `password` against a stored PHC string, in `memory`; the comparison takes constant
/// time. CPU-heavy, like [`hash`].
pub(super) fn verify(password: &str, phc: &str, memory: &mut Memory) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let algorithm = Algorithm::try_from(parsed.algorithm);
    let version = parsed.version.map_or(Ok(Version::V0x13), Version::try_from);
    let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, Params::try_from(&parsed))
    else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    compute(
        algorithm, version, &params, password, salt, &mut out, memory,
    )
    .is_ok()
        && Output::new(&out).is_ok_and(|actual| actual == expected)
}

fn compute(
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    password: &str,
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Memory,
) -> Result<(), argon2::Error> {
    if params.block_count() > MAX_BLOCKS {
        return Err(argon2::Error::MemoryTooMuch);
    }
    memory.resize(params.block_count(), Block::default());
    Argon2::new(algorithm, version, params.clone()).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        out,
        &mut memory[..],
    )
}

/// A hash of a password nobody has, verified when a user name is unknown so that a wrong name
/// takes as long to refuse as a wrong password.
pub(super) fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy password that matches nothing", &mut Memory::new()))
}

/// All password checks were busy for longer than a caller may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl From<Busy> for Problem {
    fn from(_: Busy) -> Problem {
        Problem::new(
            ErrorCode::Unavailable,
            "the hub is checking many passwords at once; try again in a few seconds",
        )
        .retry_after(2)
    }
}

/// Runs password hashes and checks on the blocking pool, at most `limit` at a time, each in a
/// memory block kept for reuse. At most `limit` blocks ever exist.
#[derive(Clone)]
pub struct PasswordWork {
    permits: Arc<Semaphore>,
    /// Std mutex: held to take or give back a block, never across an `.await`.
    spare: Arc<Mutex<Vec<Memory>>>,
    /// How long a caller waits for a free slot before being told the hub is busy.
    wait: Duration,
}

impl PasswordWork {
    pub fn new(limit: usize, wait: Duration) -> PasswordWork {
        PasswordWork {
            permits: Arc::new(Semaphore::new(limit.max(1))),
            spare: Arc::new(Mutex::new(Vec::new())),
            wait,
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, Busy> {
        self.run(move |memory| hash(&password, memory)).await
    }

    pub async fn verify(&self, password: String, phc: String) -> Result<bool, Busy> {
        self.run(move |memory| verify(&password, &phc, memory))
            .await
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| Busy)?
            .expect("the semaphore is never closed");
        let mut memory = self.take_memory();
        let spare = self.spare.clone();
        // The permit goes with the work, not with this future: a caller that gives up (a
        // client gone) must not free a slot while its hash still runs.
        let done = tokio::task::spawn_blocking(move || {
            let result = job(&mut memory);
            spare.lock().expect("password memory lock").push(memory);
            drop(permit);
            result
        })
        .await;
        Ok(done.expect("password hashing does not panic"))
    }

    fn take_memory(&self) -> Memory {
        self.spare
            .lock()
            .expect("password memory lock")
            .pop()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_salted_and_verifies_only_the_right_password() {
        let memory = &mut Memory::new();
        let first = hash("correct horse battery staple", memory);
        let second = hash("correct horse battery staple", memory);

        assert!(first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(first, second, "each hash has its own salt");
        assert!(verify("correct horse battery staple", &first, memory));
        assert!(!verify("correct horse battery stapler", &first, memory));
        assert!(!verify("anything", "not a phc string", memory));
    }

    #[test]
    fn a_hash_made_by_the_argon2_crate_itself_verifies() {
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery staple", &salt)
            .unwrap()
            .to_string();

        assert!(verify(
            "correct horse battery staple",
            &theirs,
            &mut Memory::new()
        ));
    }

    #[tokio::test]
    async fn no_more_checks_run_at_once_than_the_limit_and_a_caller_waits_only_so_long() {
        let work = PasswordWork::new(1, Duration::from_millis(50));
        let phc = decoy_hash().to_owned();
        let busy = work.permits.clone().acquire_owned().await.unwrap();

        let turned_away = work.verify("guess".into(), phc.clone()).await;
        drop(busy);
        let served = work.verify("guess".into(), phc).await;

        assert_eq!(turned_away, Err(Busy));
        assert_eq!(served, Ok(false));
        assert_eq!(
            work.spare.lock().unwrap().len(),
            1,
            "the block is kept for reuse"
        );
    }

    #[tokio::test]
    async fn a_caller_that_gives_up_does_not_free_its_slot_while_its_hash_still_runs() {
        let work = PasswordWork::new(1, Duration::from_millis(50));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (finish_tx, finish_rx) = std::sync::mpsc::channel::<()>();
        let hashing = work.clone();
        let caller = tokio::spawn(async move {
            let job = move |_: &mut Memory| {
                started_tx.send(()).unwrap();
                finish_rx.recv().unwrap();
            };
            hashing.run(job).await
        });
        let started = tokio::task::spawn_blocking(move || started_rx.recv());
        started.await.unwrap().unwrap();
        caller.abort();
        let _ = caller.await;

        let meanwhile = work.verify("guess".into(), decoy_hash().to_owned()).await;
        finish_tx.send(()).unwrap();

        assert_eq!(meanwhile, Err(Busy));
    }
}
