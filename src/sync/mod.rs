//! The pieces of a sync that are not I/O: preparing desired objects and the
//! app record's shape (the record store itself talks to the cluster).

pub mod boundary;
pub mod desired;
pub mod record;
