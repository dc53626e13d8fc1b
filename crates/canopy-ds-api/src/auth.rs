//! How a device authenticates a request: every request (except the OpenAPI document) is signed
//! with the device's MLS signature key, under the signature scheme of the cipher suite it
//! registered with.
//!
//! The headers:
//!
//! | header | value |
//! |---|---|
//! | [`DEVICE`] | `user/device` |
//! | [`TIMESTAMP`] | seconds since the Unix epoch, decimal |
//! | [`NONCE`] | 16 random bytes, hex |
//! | [`SIGNATURE`] | the signature of [`RequestSignature::signed_content`], hex |
//!
//! The server refuses a timestamp more than [`SIGNATURE_WINDOW_SECS`] away from its clock and a
//! nonce the device already used within the window (replay), and it keeps used nonces for
//! that long.
//!
//! The signed content begins with the byte string [`REQUEST_LABEL`]. An MLS `SignContent`
//! (RFC 9420 §5.1.2) begins with the variable-length size of a label of a few dozen bytes;
//! read that way, `c` `a` announce a label of 9,057 bytes, which MLS never signs, so a request
//! signature can never be taken for an MLS signature or the reverse.

/// The header naming the device.
pub const DEVICE: &str = "canopy-device";
/// The header with the request's time.
pub const TIMESTAMP: &str = "canopy-timestamp";
/// The header with the request's nonce.
pub const NONCE: &str = "canopy-nonce";
/// The header with the signature.
pub const SIGNATURE: &str = "canopy-signature";

/// How far a request's timestamp may be from the server's clock, in seconds.
pub const SIGNATURE_WINDOW_SECS: u64 = 300;

/// The nonce length, in bytes.
pub const NONCE_LEN: usize = 16;

/// The first bytes of every signed request.
pub const REQUEST_LABEL: &[u8] = b"canopy-ds request v1\n";

/// The first bytes of a statement by which a device admits another device of its user.
pub const ENDORSEMENT_LABEL: &[u8] = b"canopy-ds device endorsement v1\n";

/// The parts of a request that its signature covers.
#[derive(Clone, Copy, Debug)]
pub struct RequestSignature<'a> {
    /// The HTTP method, upper case.
    pub method: &'a str,
    /// The path and the query string as sent (`/v1/inbox?wait=30`).
    pub path_and_query: &'a str,
    /// `user/device`.
    pub device: &'a str,
    /// Seconds since the Unix epoch.
    pub timestamp: u64,
    /// [`NONCE_LEN`] bytes, hex.
    pub nonce: &'a str,
    /// The request body.
    pub body: &'a [u8],
}

impl RequestSignature<'_> {
    /// The bytes to sign: [`REQUEST_LABEL`], then method, path and query, device, timestamp
    /// and nonce each followed by a newline, then the body's length in decimal and a newline,
    /// then the body.
    pub fn signed_content(&self) -> Vec<u8> {
        let head = format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n",
            self.method,
            self.path_and_query,
            self.device,
            self.timestamp,
            self.nonce,
            self.body.len()
        );
        let mut out = Vec::with_capacity(
            REQUEST_LABEL
                .len()
                .saturating_add(head.len())
                .saturating_add(self.body.len()),
        );
        out.extend_from_slice(REQUEST_LABEL);
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(self.body);
        out
    }
}

/// The bytes an existing device signs to admit `new_device` of the same user, with the
/// signature key `new_key` under cipher suite `suite`.
pub fn endorsement_content(new_device: &str, suite: u16, new_key: &[u8]) -> Vec<u8> {
    let mut out = ENDORSEMENT_LABEL.to_vec();
    out.extend_from_slice(
        format!("{new_device}\n{suite}\n{}\n", crate::hex::encode(new_key)).as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_covered_and_separated() {
        let base = RequestSignature {
            method: "POST",
            path_and_query: "/v1/inbox?wait=1",
            device: "alice/laptop",
            timestamp: 1_700_000_000,
            nonce: "00112233445566778899aabbccddeeff",
            body: b"body",
        };
        let content = base.signed_content();
        assert!(content.starts_with(REQUEST_LABEL));
        assert!(content.ends_with(b"\n4\nbody"));
        let variants = [
            RequestSignature {
                method: "GET",
                ..base
            },
            RequestSignature {
                path_and_query: "/v1/inbox?wait=2",
                ..base
            },
            RequestSignature {
                device: "alice/phone",
                ..base
            },
            RequestSignature {
                timestamp: 1_700_000_001,
                ..base
            },
            RequestSignature {
                nonce: "ff112233445566778899aabbccddeeff",
                ..base
            },
            RequestSignature {
                body: b"bodz",
                ..base
            },
        ];
        for v in variants {
            assert_ne!(v.signed_content(), content);
        }
        // The label read as an MLS variable-length size announces 9,057 bytes.
        let [a, b] = [REQUEST_LABEL[0], REQUEST_LABEL[1]];
        assert_eq!(a >> 6, 1);
        assert_eq!(((usize::from(a) & 0x3f) << 8) | usize::from(b), 9057);
    }

    #[test]
    fn endorsements_name_device_suite_and_key() {
        let e = endorsement_content("alice/phone", 1, &[0xab, 0xcd]);
        assert_eq!(
            e,
            b"canopy-ds device endorsement v1\nalice/phone\n1\nabcd\n".to_vec()
        );
        assert_ne!(endorsement_content("alice/phone", 2, &[0xab, 0xcd]), e);
    }
}
