//! Errors of the pipeline layer. DNS trouble is not an error here — it is
//! a `temperror` result and a TempFail verdict; what remains is the
//! database and bad administrator input.

use crate::db::DbError;

/// A pipeline operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The database layer failed (connection, transaction).
    #[error(transparent)]
    Db(#[from] DbError),
    /// A query failed.
    #[error("greylist database error: {0}")]
    Sql(#[from] sqlx::Error),
    /// `postel greylist allow` got something that is neither a network
    /// nor a domain name.
    #[error("{0:?} is neither an IP network (192.0.2.0/24, 2001:db8::/48) nor a domain name")]
    InvalidAllowEntry(String),
}
