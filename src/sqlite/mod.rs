//! SQLite on the user's side of the wall and on ours: opening a user's
//! database so that nothing is ever written beside it (`open`), sealing a
//! connection so that nothing it runs reaches another file (`seal`), and the
//! schema as data (`schema`).

pub mod data;
pub mod open;
pub mod schema;
pub mod seal;

pub use open::{open_source, read_only_uri};
pub use seal::{seal, Seal};
