//! Unit and property tests for the codec module (RFC 9420 §2.1.2).
#![allow(
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: panics are test failures"
)]

use proptest::collection::vec;
use proptest::prelude::*;
use tls_codec::{DeserializeBytes, SerializeBytes, Size};

use super::*;

/// A wire-style struct mixing fixed-size and `<V>` fields, as the rest of the crate will
/// declare them.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    tls_codec::TlsSerialize,
    tls_codec::TlsSerializeBytes,
    tls_codec::TlsDeserializeBytes,
    tls_codec::TlsSize,
)]
struct Sample {
    version: u16,
    payload: VarBytes,
    labels: VarVec<VarBytes>,
    ids: VarVec<u16>,
}

/// A derived enum, to check that unknown discriminants map to `InvalidEnumValue`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    tls_codec::TlsSerialize,
    tls_codec::TlsDeserializeBytes,
    tls_codec::TlsSize,
)]
#[repr(u8)]
enum Kind {
    A = 1,
    B = 2,
}

fn varint(value: usize) -> Vec<u8> {
    let mut out = Vec::new();
    encode_varint(value, &mut out).unwrap();
    out
}

fn expected_varint_len(value: u32) -> usize {
    match value {
        0..=63 => 1,
        64..=16383 => 2,
        _ => 4,
    }
}

fn check_varint_round_trip(value: u32) {
    let bytes = varint(value as usize);
    assert_eq!(bytes.len(), expected_varint_len(value), "value {value}");
    assert_eq!(
        decode_varint(&bytes),
        Ok((value, bytes.len())),
        "value {value}"
    );
    // Extra input after the integer is not consumed.
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0xFF, 0x00]);
    assert_eq!(decode_varint(&longer), Ok((value, bytes.len())));
}

fn sample() -> Sample {
    Sample {
        version: 0x0102,
        payload: VarBytes::from(b"abc".to_vec()),
        labels: VarVec(vec![VarBytes::default(), VarBytes::from(vec![0xAA; 70])]),
        ids: VarVec(vec![7, 0xFFFF]),
    }
}

// ---- varint ----------------------------------------------------------------------------

#[test]
fn varint_round_trips_all_one_and_two_byte_values_and_boundaries() {
    for value in 0..=70_000 {
        check_varint_round_trip(value);
    }
    for value in [
        16_383,
        16_384,
        65_535,
        65_536,
        0x00FF_FFFF,
        0x0100_0000,
        VARINT_MAX - 1,
        VARINT_MAX,
    ] {
        check_varint_round_trip(value);
    }
}

#[test]
fn varint_boundary_encodings() {
    assert_eq!(varint(0), [0x00]);
    assert_eq!(varint(63), [0x3F]);
    assert_eq!(varint(64), [0x40, 0x40]);
    assert_eq!(varint(16_383), [0x7F, 0xFF]);
    assert_eq!(varint(16_384), [0x80, 0x00, 0x40, 0x00]);
    assert_eq!(varint(VARINT_MAX as usize), [0xBF, 0xFF, 0xFF, 0xFF]);
}

#[test]
fn varint_rfc_examples() {
    // RFC 9420 §2.1.2 examples.
    assert_eq!(
        decode_varint(&[0x9D, 0x7F, 0x3E, 0x7D]),
        Ok((494_878_333, 4))
    );
    assert_eq!(decode_varint(&[0x7B, 0xBD]), Ok((15_293, 2)));
    assert_eq!(decode_varint(&[0x25]), Ok((37, 1)));
}

#[test]
fn varint_encode_rejects_too_large() {
    for len in [
        VARINT_MAX as usize + 1,
        1 << 31,
        u32::MAX as usize,
        usize::MAX,
    ] {
        let mut out = vec![0x11];
        assert_eq!(
            encode_varint(len, &mut out),
            Err(CodecError::LengthTooLarge)
        );
        assert_eq!(out, [0x11], "output untouched on error");
    }
}

#[test]
fn varint_rejects_every_non_minimal_form() {
    for value in 0u16..64 {
        let bytes = (value | 0x4000).to_be_bytes();
        assert_eq!(
            decode_varint(&bytes),
            Err(CodecError::NonMinimalVarint),
            "{value}"
        );
    }
    for value in 0u32..16_384 {
        let bytes = (value | 0x8000_0000).to_be_bytes();
        assert_eq!(
            decode_varint(&bytes),
            Err(CodecError::NonMinimalVarint),
            "{value}"
        );
    }
}

#[test]
fn varint_rejects_reserved_prefix_whatever_follows() {
    for first in 0xC0..=0xFFu8 {
        for tail_len in 0..=8 {
            let mut bytes = vec![first];
            bytes.extend(std::iter::repeat_n(0x5A, tail_len));
            assert_eq!(decode_varint(&bytes), Err(CodecError::ReservedVarintPrefix));
        }
    }
}

#[test]
fn varint_truncated() {
    for bytes in [
        &[][..],
        &[0x40],
        &[0x80],
        &[0x80, 0x00],
        &[0xBF, 0xFF, 0xFF],
    ] {
        assert_eq!(
            decode_varint(bytes),
            Err(CodecError::Truncated),
            "{bytes:02x?}"
        );
    }
}

#[test]
fn deserialization_vectors() {
    let json: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/vectors/deserialization.json"
    )))
    .unwrap();
    let cases = json.as_array().unwrap();
    assert_eq!(cases.len(), 14);
    for case in cases {
        let header = hex::decode(case["vlbytes_header"].as_str().unwrap()).unwrap();
        let length = u32::try_from(case["length"].as_u64().unwrap()).unwrap();
        assert_eq!(decode_varint(&header), Ok((length, header.len())), "{case}");
        assert_eq!(varint(length as usize), header, "{case}");
    }
}

/// Documents why the crate has its own varint: tls_codec 0.5 reads a 62-bit `0b11`-prefixed
/// length above 2^30 - 1 without complaint. If this starts failing, tls_codec has been fixed.
#[test]
fn tls_codec_varint_accepts_what_we_reject() {
    let header = [0xC0, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00];
    let (value, rest) = tls_codec::TlsVarInt::tls_deserialize_bytes(&header).unwrap();
    assert_eq!((value.value(), rest.len()), (1 << 30, 0));
    assert_eq!(
        decode_varint(&header),
        Err(CodecError::ReservedVarintPrefix)
    );
}

// ---- VarBytes / VarVec -------------------------------------------------------------------

#[test]
fn var_bytes_encoding_and_helpers() {
    let v = VarBytes::from(vec![1, 2, 3]);
    assert_eq!(encode(&v).unwrap(), [3, 1, 2, 3]);
    assert_eq!(v.tls_serialize_bytes().unwrap(), [3, 1, 2, 3]);
    assert_eq!(v.tls_serialized_len(), 4);
    assert_eq!(
        (v.len(), v.is_empty(), v.as_slice()),
        (3, false, &[1u8, 2, 3][..])
    );
    assert_eq!(v.as_ref(), &[1, 2, 3]);
    assert_eq!(Vec::from(v.clone()), vec![1, 2, 3]);
    assert_eq!(VarBytes::from(&[1u8, 2, 3][..]), v);
    assert!(VarBytes::default().is_empty());
    assert_eq!(encode(&VarBytes::default()).unwrap(), [0]);

    let long = VarBytes(vec![9; 64]);
    let bytes = encode(&long).unwrap();
    assert_eq!(bytes[..2], [0x40, 0x40]);
    assert_eq!(bytes.len(), long.tls_serialized_len());
    assert_eq!(decode_exact::<VarBytes>(&bytes), Ok(long));
}

#[test]
fn var_bytes_decode_errors() {
    assert_eq!(decode_exact::<VarBytes>(&[]), Err(CodecError::Truncated));
    assert_eq!(
        decode_exact::<VarBytes>(&[2, 1]),
        Err(CodecError::Truncated)
    );
    assert_eq!(
        decode_exact::<VarBytes>(&[0x40, 0x01, 0xAA]),
        Err(CodecError::NonMinimalVarint)
    );
    assert_eq!(
        decode_exact::<VarBytes>(&[0xC0, 0, 0, 0, 0, 0, 0, 1, 0xAA]),
        Err(CodecError::ReservedVarintPrefix)
    );
    // A huge declared length with almost no data fails fast, without allocating it.
    assert_eq!(
        decode_exact::<VarBytes>(&[0xBF, 0xFF, 0xFF, 0xFF, 1, 2]),
        Err(CodecError::Truncated)
    );
    assert_eq!(
        decode_exact::<VarBytes>(&[1, 7, 0]),
        Err(CodecError::TrailingBytes { count: 1 })
    );
}

#[test]
fn var_vec_encoding_and_helpers() {
    let v: VarVec<u16> = VarVec::from(vec![1, 0x0203]);
    assert_eq!(encode(&v).unwrap(), [4, 0, 1, 2, 3]);
    assert_eq!(v.tls_serialize_bytes().unwrap(), [4, 0, 1, 2, 3]);
    assert_eq!(v.tls_serialized_len(), 5);
    assert_eq!(
        (v.len(), v.is_empty(), v.as_slice()),
        (2, false, &[1u16, 0x0203][..])
    );
    assert_eq!(v.as_ref(), &[1, 0x0203]);
    assert_eq!(Vec::from(v.clone()), vec![1, 0x0203]);
    assert!(VarVec::<Kind>::default().is_empty());
    assert_eq!(decode_exact::<VarVec<u16>>(&[4, 0, 1, 2, 3]), Ok(v));

    let nested = VarVec(vec![VarBytes::from(vec![5]), VarBytes::default()]);
    assert_eq!(encode(&nested).unwrap(), [3, 1, 5, 0]);
    assert_eq!(decode_exact::<VarVec<VarBytes>>(&[3, 1, 5, 0]), Ok(nested));
}

#[test]
fn var_vec_decode_errors() {
    // Declared body of 3 bytes cannot hold whole u16s.
    assert_eq!(
        decode_exact::<VarVec<u16>>(&[3, 0, 1, 2]),
        Err(CodecError::VectorLengthMismatch)
    );
    // Inner vector claims more than the outer body holds, though the input has more bytes.
    assert_eq!(
        decode_exact::<VarVec<VarBytes>>(&[2, 5, 1, 2, 3, 4, 5]),
        Err(CodecError::VectorLengthMismatch)
    );
    // Whole body missing.
    assert_eq!(
        decode_exact::<VarVec<u16>>(&[4, 0, 1]),
        Err(CodecError::Truncated)
    );
    // Inner varint failures keep their own variant.
    assert_eq!(
        decode_exact::<VarVec<VarBytes>>(&[2, 0xC0, 0]),
        Err(CodecError::ReservedVarintPrefix)
    );
    assert_eq!(
        decode_exact::<VarVec<VarBytes>>(&[3, 0x40, 0x00, 0x00]),
        Err(CodecError::NonMinimalVarint)
    );
    // An element that consumes nothing would otherwise loop forever.
    assert_eq!(
        decode_exact::<VarVec<()>>(&[1, 0]),
        Err(CodecError::ZeroSizedElement)
    );
    assert_eq!(decode_exact::<VarVec<()>>(&[0]), Ok(VarVec(vec![])));
    // Unknown enum values come out as InvalidEnumValue.
    assert_eq!(
        decode_exact::<VarVec<Kind>>(&[2, 1, 3]),
        Err(CodecError::InvalidEnumValue(3))
    );
    assert_eq!(
        decode_exact::<VarVec<Kind>>(&[2, 1, 2]),
        Ok(VarVec(vec![Kind::A, Kind::B]))
    );
}

#[test]
fn oversize_vectors_fail_to_encode() {
    // calloc'd and never touched: cheap despite the size.
    let big = VarBytes(vec![0; VARINT_MAX as usize + 1]);
    assert_eq!(encode(&big), Err(CodecError::LengthTooLarge));
    assert_eq!(
        big.tls_serialize_bytes().map_err(CodecError::from),
        Err(CodecError::LengthTooLarge)
    );
    let nested = VarVec(vec![big]);
    assert_eq!(encode(&nested), Err(CodecError::LengthTooLarge));
}

// ---- derived struct ------------------------------------------------------------------------

#[test]
fn derived_struct_round_trips() {
    let value = sample();
    let bytes = encode(&value).unwrap();
    let mut expected = vec![0x01, 0x02, 3, b'a', b'b', b'c'];
    expected.extend_from_slice(&[0x40, 0x49, 0x00, 0x40, 0x46]);
    expected.extend_from_slice(&[0xAA; 70]);
    expected.extend_from_slice(&[4, 0x00, 0x07, 0xFF, 0xFF]);
    assert_eq!(bytes, expected);
    assert_eq!(value.tls_serialized_len(), bytes.len());
    assert_eq!(value.tls_serialize_bytes().unwrap(), bytes);
    assert_eq!(decode_exact::<Sample>(&bytes), Ok(value));

    let mut trailing = bytes.clone();
    trailing.push(0);
    assert_eq!(
        decode_exact::<Sample>(&trailing),
        Err(CodecError::TrailingBytes { count: 1 })
    );
    assert_eq!(
        decode_exact::<Sample>(&bytes[..bytes.len() - 1]),
        Err(CodecError::Truncated)
    );
    assert_eq!(
        decode_exact::<Kind>(&[9]),
        Err(CodecError::InvalidEnumValue(9))
    );
}

// ---- error mapping -------------------------------------------------------------------------

#[test]
fn errors_survive_the_trip_through_tls_codec() {
    let all = [
        CodecError::Truncated,
        CodecError::NonMinimalVarint,
        CodecError::ReservedVarintPrefix,
        CodecError::LengthTooLarge,
        CodecError::VectorLengthMismatch,
        CodecError::ZeroSizedElement,
        CodecError::InvalidEnumValue(42),
        CodecError::InvalidPresence(2),
        CodecError::InvalidPresence(255),
        CodecError::UnsupportedVersion(0),
        CodecError::UnsupportedVersion(65535),
        CodecError::DuplicateExtension(0x0A0A),
        CodecError::TrailingBlankNode,
        CodecError::MisplacedNode(0),
        CodecError::MisplacedNode(u32::MAX),
        CodecError::NonZeroPadding,
        CodecError::FieldPresenceMismatch,
        CodecError::Malformed("bad".to_string()),
        CodecError::Encoding("worse".to_string()),
    ];
    let codes = [
        CodeKind::WireFormat,
        CodeKind::ContentType,
        CodeKind::SenderType,
        CodeKind::LeafNodeSource,
        CodeKind::NodeType,
        CodeKind::PskType,
        CodeKind::ResumptionPskUsage,
        CodeKind::ProposalOrRefType,
        CodeKind::ProposalType,
        CodeKind::CredentialType,
    ]
    .into_iter()
    .flat_map(|kind| [0, 7, u16::MAX].map(|value| CodecError::InvalidCode { kind, value }));
    let limits = [
        Limit::MessageLen,
        Limit::DecodedBytes,
        Limit::TreeLeaves,
        Limit::Extensions,
        Limit::VectorLen,
        Limit::CredentialLen,
        Limit::CredentialBindings,
    ]
    .into_iter()
    .map(|limit| CodecError::LimitExceeded {
        limit,
        value: usize::MAX,
        max: 3,
    });
    #[cfg(feature = "extensions")]
    let limits = limits.chain([
        CodecError::ComponentOrder(0),
        CodecError::ComponentOrder(u16::MAX),
    ]);
    for e in all.into_iter().chain(codes).chain(limits) {
        assert_eq!(CodecError::from(e.clone().into_tls_decoding()), e);
        assert_eq!(CodecError::from(e.clone().into_tls_encoding()), e);
    }
    // A tag with a payload that does not parse is not ours.
    assert_eq!(
        CodecError::from(tls_codec::Error::DecodingError(
            "canopy-codec: invalid code NoSuchKind 3".to_string()
        )),
        CodecError::Malformed("canopy-codec: invalid code NoSuchKind 3".to_string())
    );
    assert_eq!(
        CodecError::InvalidCode {
            kind: CodeKind::PskType,
            value: 0
        }
        .to_string(),
        "invalid PSKType value 0"
    );
    assert_eq!(
        CodecError::from(CodecError::TrailingBytes { count: 3 }.into_tls_decoding()),
        CodecError::Malformed("trailing data".to_string())
    );
    assert_eq!(
        CodecError::from(tls_codec::Error::DecodingError(
            "canopy-codec: nonsense".to_string()
        )),
        CodecError::Malformed("canopy-codec: nonsense".to_string())
    );
    assert_eq!(
        CodecError::from(tls_codec::Error::InvalidVectorLength),
        CodecError::Malformed("invalid vector length".to_string())
    );
    assert_eq!(
        CodecError::TrailingBytes { count: 2 }.to_string(),
        "2 trailing bytes after the decoded value"
    );
}

// ---- properties ----------------------------------------------------------------------------

fn var_bytes() -> impl Strategy<Value = VarBytes> {
    prop_oneof![vec(any::<u8>(), 0..8), vec(any::<u8>(), 60..300)].prop_map(VarBytes)
}

fn samples() -> impl Strategy<Value = Sample> {
    (
        any::<u16>(),
        var_bytes(),
        vec(var_bytes(), 0..6),
        vec(any::<u16>(), 0..40),
    )
        .prop_map(|(version, payload, labels, ids)| Sample {
            version,
            payload,
            labels: VarVec(labels),
            ids: VarVec(ids),
        })
}

/// Random bytes, biased towards short inputs that start with a plausible length header.
fn wire_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..64),
        (0u8..16, vec(any::<u8>(), 0..24)).prop_map(|(len, mut rest)| {
            rest.insert(0, len);
            rest
        }),
    ]
}

/// Decoding arbitrary bytes never panics, and whatever decodes re-encodes to the same bytes
/// (minimal varints make the encoding canonical).
fn check_canonical<T>(bytes: &[u8]) -> Result<(), TestCaseError>
where
    T: DeserializeBytes + tls_codec::Serialize,
{
    let _ = T::tls_deserialize_bytes(bytes);
    if let Ok(value) = decode_exact::<T>(bytes) {
        prop_assert_eq!(encode(&value).unwrap(), bytes);
    }
    Ok(())
}

proptest! {
    #[test]
    fn prop_varint_round_trip(value in 0..=VARINT_MAX) {
        let bytes = varint(value as usize);
        prop_assert_eq!(bytes.len(), expected_varint_len(value));
        prop_assert_eq!(decode_varint(&bytes), Ok((value, bytes.len())));
    }

    #[test]
    fn prop_varint_encode_too_large(len in (VARINT_MAX as usize + 1)..=usize::MAX) {
        let mut out = Vec::new();
        prop_assert_eq!(encode_varint(len, &mut out), Err(CodecError::LengthTooLarge));
        prop_assert!(out.is_empty());
    }

    #[test]
    fn prop_random_bytes_never_panic(bytes in wire_bytes()) {
        if let Ok((value, used)) = decode_varint(&bytes) {
            prop_assert_eq!(varint(value as usize), &bytes[..used]);
        }
        check_canonical::<VarBytes>(&bytes)?;
        check_canonical::<VarVec<VarBytes>>(&bytes)?;
        check_canonical::<VarVec<u16>>(&bytes)?;
        check_canonical::<Sample>(&bytes)?;
    }

    #[test]
    fn prop_var_bytes_round_trip(v in var_bytes(), extra in vec(any::<u8>(), 1..4)) {
        let bytes = encode(&v).unwrap();
        prop_assert_eq!(bytes.len(), v.tls_serialized_len());
        prop_assert_eq!(&v.tls_serialize_bytes().unwrap(), &bytes);
        prop_assert_eq!(decode_exact::<VarBytes>(&bytes), Ok(v));
        let mut trailing = bytes;
        trailing.extend_from_slice(&extra);
        prop_assert_eq!(
            decode_exact::<VarBytes>(&trailing),
            Err(CodecError::TrailingBytes { count: extra.len() })
        );
    }

    #[test]
    fn prop_var_vec_round_trip(v in vec(var_bytes(), 0..8), extra in vec(any::<u8>(), 1..4)) {
        let v = VarVec(v);
        let bytes = encode(&v).unwrap();
        prop_assert_eq!(bytes.len(), v.tls_serialized_len());
        prop_assert_eq!(&v.tls_serialize_bytes().unwrap(), &bytes);
        prop_assert_eq!(decode_exact::<VarVec<VarBytes>>(&bytes), Ok(v));
        let mut trailing = bytes;
        trailing.extend_from_slice(&extra);
        prop_assert_eq!(
            decode_exact::<VarVec<VarBytes>>(&trailing),
            Err(CodecError::TrailingBytes { count: extra.len() })
        );
    }

    #[test]
    fn prop_struct_round_trip(s in samples(), extra in vec(any::<u8>(), 1..4)) {
        let bytes = encode(&s).unwrap();
        prop_assert_eq!(bytes.len(), s.tls_serialized_len());
        prop_assert_eq!(&s.tls_serialize_bytes().unwrap(), &bytes);
        prop_assert_eq!(decode_exact::<Sample>(&bytes), Ok(s));
        let mut trailing = bytes.clone();
        trailing.extend_from_slice(&extra);
        prop_assert_eq!(
            decode_exact::<Sample>(&trailing),
            Err(CodecError::TrailingBytes { count: extra.len() })
        );
        // Every strict prefix fails without panicking.
        for cut in 0..bytes.len() {
            prop_assert!(decode_exact::<Sample>(&bytes[..cut]).is_err());
        }
    }
}
