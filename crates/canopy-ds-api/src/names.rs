//! User and device names. A device is named `user/device`; that string is also the identity
//! of its MLS Basic credential, so that members see who a leaf belongs to.

use core::fmt;

/// The longest user or device name, in bytes.
pub const MAX_NAME_LEN: usize = 32;

/// Why a name was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    /// Empty or longer than [`MAX_NAME_LEN`].
    Length,
    /// A character outside `a-z 0-9 . _ -`, or a first character that is not a letter or digit.
    Character,
    /// A device id without exactly one `/`.
    Shape,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Length => "a name has 1 to 32 characters",
            Self::Character => {
                "a name starts with a lower-case letter or digit and has only a-z, 0-9, '.', '_', '-'"
            }
            Self::Shape => "a device id is user/device",
        })
    }
}

/// Checks a user or device name.
///
/// # Errors
/// [`NameError::Length`] or [`NameError::Character`].
pub fn check_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(NameError::Length);
    }
    let mut chars = name.bytes();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'_' || c == b'-'
    });
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(NameError::Character)
    }
}

/// A device: a user name and a device name, both checked.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId {
    user: String,
    device: String,
}

impl DeviceId {
    /// `user/device`, both names checked.
    ///
    /// # Errors
    /// A [`NameError`] for either name.
    pub fn new(user: &str, device: &str) -> Result<Self, NameError> {
        check_name(user)?;
        check_name(device)?;
        Ok(Self {
            user: user.to_owned(),
            device: device.to_owned(),
        })
    }

    /// Parses `user/device`.
    ///
    /// # Errors
    /// [`NameError::Shape`] without exactly one `/`, or a [`NameError`] for either name.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let (user, device) = text.split_once('/').ok_or(NameError::Shape)?;
        if device.contains('/') {
            return Err(NameError::Shape);
        }
        Self::new(user, device)
    }

    /// The user's name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The device's name within its user.
    pub fn device(&self) -> &str {
        &self.device
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.user, self.device)
    }
}

impl serde::Serialize for DeviceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DeviceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("alice").is_ok());
        assert!(check_name("a1.b_c-d").is_ok());
        assert_eq!(check_name(""), Err(NameError::Length));
        assert_eq!(check_name(&"a".repeat(33)), Err(NameError::Length));
        assert_eq!(check_name("Alice"), Err(NameError::Character));
        assert_eq!(check_name("-a"), Err(NameError::Character));
        assert_eq!(check_name("a b"), Err(NameError::Character));
        assert_eq!(check_name("a/b"), Err(NameError::Character));
    }

    #[test]
    fn device_ids() {
        let d = DeviceId::parse("alice/laptop").unwrap();
        assert_eq!((d.user(), d.device()), ("alice", "laptop"));
        assert_eq!(d.to_string(), "alice/laptop");
        assert_eq!(DeviceId::parse("alice"), Err(NameError::Shape));
        assert_eq!(DeviceId::parse("a/b/c"), Err(NameError::Shape));
        assert_eq!(DeviceId::parse("a/"), Err(NameError::Length));
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, "\"alice/laptop\"");
        assert_eq!(serde_json::from_str::<DeviceId>(&json).unwrap(), d);
        assert!(serde_json::from_str::<DeviceId>("\"x\"").is_err());
    }
}
