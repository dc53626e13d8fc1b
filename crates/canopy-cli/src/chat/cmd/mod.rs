//! One file per command.

pub mod chat;
pub mod create;
pub mod device;
pub mod history;
pub mod init;
pub mod invite;
pub mod leave;
pub mod members;
pub mod read;
pub mod register;
pub mod remove;
pub mod send;
pub mod serve;

/// The group id of a group argument: `user/name` as given, or `name` for one of ours.
pub fn group_id(session: &super::session::Session, group: &str) -> Vec<u8> {
    if group.contains('/') {
        group.as_bytes().to_vec()
    } else {
        format!("{}/{group}", session.config.user).into_bytes()
    }
}
