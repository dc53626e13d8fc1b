//! The operations behind the RPCs, grouped as the proto file groups them.

mod commit;
mod external;
mod group;
pub(crate) mod join;
mod proposals;
mod successor;
