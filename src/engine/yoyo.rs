//! The yoyo engine: one Python process, started with the interpreter of the
//! yoyo that was found, runs `driver.py` (shipped inside the binary) in the
//! scratch folder and drives yoyo's own API one migration at a time. Its
//! answers are JSON lines; after each apply and rollback the scratch
//! database's `_yoyo_migration` is read here, so a yoyo that says it worked
//! but recorded nothing fails the run. A driver that does not answer within
//! the timeout is killed; the driver stops by itself when this process dies.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde::Deserialize;

use super::{diagnose, Failure, Phase, Runner};
use crate::error::AppError;
use crate::migrations::Migration;
use crate::sqlite::seal;

const DRIVER: &str = include_str!("driver.py");

/// The yoyo engine at work.
pub struct Yoyo {
    yoyo: PathBuf,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    deadline: Instant,
    timeout: Duration,
    reader: Connection,
    touched: BTreeSet<String>,
    /// Set once the driver is gone (killed on timeout, or crashed).
    dead: Option<Failure>,
    /// Pending migrations in yoyo's order (`to_apply`).
    pub pending: Vec<String>,
    /// Migrations yoyo could not import, as failures.
    pub load_failures: Vec<Failure>,
}

#[derive(Debug, Deserialize)]
struct Event {
    event: String,
    #[serde(default)]
    ok: bool,
    #[serde(default)]
    pending: Vec<String>,
    #[serde(default)]
    errors: std::collections::BTreeMap<String, String>,
    migration: Option<String>,
    step: Option<usize>,
    sql: Option<String>,
    error: Option<String>,
    refused: Option<String>,
    #[serde(default)]
    touched: Vec<String>,
}

/// The Python that runs `yoyo`: the interpreter on its `#!` line (a
/// virtualenv's console script names its own), else a `python3` or `python`
/// beside it.
pub fn python_of(yoyo: &Path) -> Result<Vec<String>, AppError> {
    let unusable = |why: String| {
        AppError::env(
            "yoyo_not_usable",
            why,
            "pass --yoyo the yoyo script of a virtualenv with yoyo-migrations installed (for example .venv/bin/yoyo), or use --engine native",
        )
    };
    let mut head = Vec::new();
    std::fs::File::open(yoyo)
        .and_then(|f| f.take(512).read_to_end(&mut head))
        .map_err(|e| unusable(format!("cannot read {}: {e}", yoyo.display())))?;
    if let Some(rest) = head.strip_prefix(b"#!") {
        let line = String::from_utf8_lossy(rest);
        let line = line.lines().next().unwrap_or("").trim();
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        if !words.is_empty() {
            return Ok(words);
        }
    }
    let dir = yoyo.parent().unwrap_or(Path::new("."));
    for name in ["python3", "python"] {
        let p = dir.join(name);
        if p.is_file() {
            return Ok(vec![p.to_string_lossy().into_owned()]);
        }
    }
    Err(unusable(format!(
        "{} is not a Python console script (no #! line) and has no python beside it",
        yoyo.display()
    )))
}

impl Yoyo {
    /// Start the driver on the scratch database `db` for the migrations in `sources`.
    pub fn start(
        yoyo: &Path,
        db: &Path,
        sources: &Path,
        deadline: Instant,
    ) -> Result<Yoyo, AppError> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        let python = python_of(yoyo)?;
        let folder = db.parent().unwrap_or(Path::new("."));
        let script = folder.join("driver.py");
        std::fs::write(&script, DRIVER).map_err(|e| AppError::io("write", &script, &e))?;
        let mut child = Command::new(&python[0])
            .args(&python[1..])
            .arg(&script)
            .current_dir(folder)
            // Importing migrations must not write __pycache__ into the project.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                AppError::env(
                    "yoyo_not_usable",
                    format!("cannot start {} (the Python of {}): {e}", python[0], yoyo.display()),
                    "pass --yoyo the yoyo script of a virtualenv with yoyo-migrations installed, or use --engine native",
                )
            })?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err_pipe = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
                s.push_str(&String::from_utf8_lossy(&buf[..n]));
                if s.len() > 65_536 {
                    let cut = s.len() - 32_768;
                    let cut = (cut..s.len()).find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                    s.drain(..cut);
                }
            }
        });
        let reader = Connection::open(db).map_err(|e| {
            AppError::env(
                "sqlite_error",
                format!("opening the scratch database: {e}"),
                "check TMPDIR",
            )
        })?;
        let _ = seal(&reader);
        let mut engine = Yoyo {
            yoyo: yoyo.to_path_buf(),
            stdin: child.stdin.take(),
            child,
            lines,
            stderr,
            deadline,
            timeout,
            reader,
            touched: BTreeSet::new(),
            dead: None,
            pending: Vec::new(),
            load_failures: Vec::new(),
        };
        let config = serde_json::json!({
            "database": db,
            "sources": sources,
        });
        engine.send(&config);
        // yoyo imports every migration before it answers: one that hangs at
        // import is named, and fails the run as a timeout.
        let mut loading: Option<String> = None;
        let ready = loop {
            match engine.next_event() {
                Ok(ev) if ev.event == "loading" => loading = ev.migration,
                Err(mut f) if f.code == "timeout" && loading.is_some() => {
                    let id = loading.unwrap_or_default();
                    f.error = format!(
                        "yoyo did not finish importing {id} within --timeout ({} s) and was stopped",
                        engine.timeout_secs()
                    );
                    f.hint = "the migration runs code at import that does not end (a loop, a lock, a network call, input?): fix it, or raise --timeout".into();
                    f.migration = id;
                    engine.dead = Some(f.clone());
                    engine.load_failures = vec![f];
                    return Ok(engine);
                }
                other => break other,
            }
        };
        match ready {
            Ok(ev) if ev.event == "ready" && ev.ok => {
                engine.pending = ev.pending;
                Ok(engine)
            }
            Ok(ev) if ev.event == "ready" => {
                if let Some(e) = ev.errors.get("") {
                    return Err(engine.not_usable(e));
                }
                engine.load_failures = ev
                    .errors
                    .into_iter()
                    .map(|(id, error)| {
                        let mut f = Failure::new(&id, Phase::Apply, "migration_import", error);
                        f.hint = format!(
                            "yoyo cannot import {id}: fix the file so that Python imports it (the error is Python's)"
                        );
                        f
                    })
                    .collect();
                Ok(engine)
            }
            Ok(ev) => Err(engine.not_usable(&format!("unexpected answer `{}`", ev.event))),
            Err(f) => Err(engine.not_usable(&f.error)),
        }
    }

    /// The time the run had, in whole seconds, rounded up as given.
    fn timeout_secs(&self) -> u64 {
        self.timeout.as_millis().div_ceil(1000) as u64
    }

    fn not_usable(&mut self, why: &str) -> AppError {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let tail = self.stderr_tail();
        let tail = if why.contains(&tail) {
            String::new()
        } else {
            tail
        };
        AppError::env(
            "yoyo_not_usable",
            format!(
                "{} could not drive yoyo: {why}{}",
                self.yoyo.display(),
                if tail.is_empty() { String::new() } else { format!(" ({tail})") }
            ),
            "pass --yoyo the yoyo script of a virtualenv with yoyo-migrations 9 installed (for example .venv/bin/yoyo), or use --engine native",
        )
    }

    fn stderr_tail(&self) -> String {
        // Let the reader thread catch up with what the process wrote last.
        std::thread::sleep(Duration::from_millis(20));
        let s = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        s.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string()
    }

    fn send(&mut self, value: &serde_json::Value) {
        if let Some(stdin) = self.stdin.as_mut() {
            let mut line = value.to_string();
            line.push('\n');
            let _ = stdin.write_all(line.as_bytes()).and_then(|_| stdin.flush());
        }
    }

    /// The next event, or a failure when the driver died or the time is up.
    fn next_event(&mut self) -> Result<Event, Failure> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(line) => serde_json::from_str(&line).map_err(|e| {
                Failure::new(
                    "",
                    Phase::Apply,
                    "yoyo_failed",
                    format!("unreadable answer from the driver ({e}): {line}"),
                )
            }),
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let mut f = Failure::new(
                    "",
                    Phase::Apply,
                    "timeout",
                    format!(
                        "yoyo did not finish within --timeout ({} s) and was stopped",
                        self.timeout_secs()
                    ),
                );
                f.hint = "a step or a Python callable hangs (waiting on a lock, a network call, input?): fix it, or raise --timeout".into();
                Err(f)
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = self.child.wait();
                let tail = self.stderr_tail();
                let mut f = Failure::new(
                    "",
                    Phase::Apply,
                    "yoyo_failed",
                    if tail.is_empty() {
                        "yoyo stopped without an answer".to_string()
                    } else {
                        tail
                    },
                );
                f.hint = "yoyo's Python process ended in the middle of a migration: run the migration with yoyo by hand on a copy to see the whole traceback".into();
                Err(f)
            }
        }
    }

    /// Send `command` and wait for its `done`.
    fn request(
        &mut self,
        command: serde_json::Value,
        id: &str,
        phase: Phase,
    ) -> Result<(), Failure> {
        if let Some(f) = &self.dead {
            let mut f = f.clone();
            f.migration = id.to_string();
            f.phase = phase;
            return Err(f);
        }
        self.send(&command);
        let mut last: (Option<usize>, Option<String>) = (None, None);
        loop {
            let ev = match self.next_event() {
                Ok(ev) => ev,
                Err(mut f) => {
                    f.migration = id.to_string();
                    f.phase = phase;
                    f.step = last.0;
                    f.sql = last.1.map(|s| s.trim().to_string());
                    self.dead = Some(f.clone());
                    return Err(f);
                }
            };
            match ev.event.as_str() {
                "step" => last = (ev.step, ev.sql),
                "done" => {
                    self.touched.extend(ev.touched);
                    if ev.ok {
                        return Ok(());
                    }
                    let error = ev.error.unwrap_or_default();
                    let code = if ev.refused.is_some() {
                        "outside_scratch"
                    } else {
                        diagnose::code_for(&error)
                    };
                    let mut f =
                        Failure::new(ev.migration.as_deref().unwrap_or(id), phase, code, error);
                    f.step = ev.step;
                    f.sql = ev.sql.map(|s| s.trim().to_string());
                    if let Some(r) = ev.refused {
                        f.hint = diagnose::outside_scratch_hint(&r);
                    }
                    return Err(f);
                }
                _ => {}
            }
        }
    }

    fn recorded(&self, id: &str) -> Option<bool> {
        self.reader
            .query_row(
                "SELECT count(*) FROM _yoyo_migration WHERE migration_id = ?1",
                [id],
                |r| r.get::<_, i64>(0),
            )
            .ok()
            .map(|n| n > 0)
    }
}

impl Runner for Yoyo {
    fn name(&self) -> &'static str {
        "yoyo"
    }

    fn run(&mut self, m: &Migration, phase: Phase) -> Result<(), Failure> {
        let id = &m.file.id;
        let op = if phase.applies() { "apply" } else { "rollback" };
        self.request(serde_json::json!({"op": op, "id": id}), id, phase)?;
        let expected = phase.applies();
        if self.recorded(id) != Some(expected) {
            let mut f = Failure::new(
                id,
                phase,
                "not_recorded",
                format!(
                    "yoyo reported success, but _yoyo_migration {} {id}",
                    if expected {
                        "does not list"
                    } else {
                        "still lists"
                    }
                ),
            );
            f.hint = format!(
                "{} does not behave like yoyo-migrations 9: check `{} --version`, or use --engine native",
                self.yoyo.display(),
                self.yoyo.display()
            );
            return Err(f);
        }
        Ok(())
    }

    fn hooks(&mut self, phase: Phase) -> Result<(), Failure> {
        self.request(serde_json::json!({"op": "hooks"}), "post-apply", phase)
    }

    fn take_touched(&mut self) -> BTreeSet<String> {
        std::mem::take(&mut self.touched)
    }

    fn reader(&self) -> &Connection {
        &self.reader
    }
}

impl Drop for Yoyo {
    fn drop(&mut self) {
        if self.dead.is_none() {
            self.send(&serde_json::json!({"op": "quit"}));
        }
        self.stdin.take();
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
