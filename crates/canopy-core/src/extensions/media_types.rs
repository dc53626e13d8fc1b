//! Content advertisement (draft-ietf-mls-extensions §Content Advertisement): the
//! `content_media_types` component's `MediaTypeList`, and `ApplicationFraming`, the form of
//! `application_data` in a group whose GroupContext lists media types.

use tls_codec::{TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::AppDataDictionary;
use crate::codec::{CodecError, VarBytes, VarVec};
use crate::rules::{Detail, Rule, Violation};
use crate::wire::Extensions;

/// `Parameter`: one media-type parameter, without RFC 2045 quoting.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct Parameter {
    /// `opaque parameter_name<V>`.
    pub parameter_name: VarBytes,
    /// `opaque parameter_value<V>`.
    pub parameter_value: VarBytes,
}

/// `MediaType`: an IANA media type (`type/subtype`) and its parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct MediaType {
    /// `opaque type<V>`: top-level type, `/`, subtype; empty in an `ApplicationFraming`
    /// means the group's first media type.
    pub media_type: VarBytes,
    /// `Parameter parameters<V>`.
    pub parameters: VarVec<Parameter>,
}

impl MediaType {
    /// A media type without parameters, such as `text/plain`.
    pub fn new(media_type: &str) -> Self {
        Self {
            media_type: VarBytes(media_type.as_bytes().to_vec()),
            parameters: VarVec::default(),
        }
    }

    /// The same media type with the parameter `name=value` added.
    #[must_use]
    pub fn with_parameter(mut self, name: &str, value: &str) -> Self {
        self.parameters.0.push(Parameter {
            parameter_name: VarBytes(name.as_bytes().to_vec()),
            parameter_value: VarBytes(value.as_bytes().to_vec()),
        });
        self
    }

    /// The `type/subtype` in ASCII lower case: media types compare case-insensitively
    /// (RFC 6838 §4.2).
    pub fn normalized(&self) -> Vec<u8> {
        self.media_type.as_slice().to_ascii_lowercase()
    }
}

/// `MediaTypeList`: the body of the `content_media_types` component (at least one entry,
/// checked when decoded).
#[derive(Clone, Debug, PartialEq, Eq, TlsSerialize, TlsSize)]
pub struct MediaTypeList {
    media_type_list: VarVec<MediaType>,
}

impl MediaTypeList {
    /// A list of `types`.
    ///
    /// # Errors
    /// [`CodecError::EmptyMediaTypes`] if `types` is empty.
    pub fn new(types: Vec<MediaType>) -> Result<Self, CodecError> {
        if types.is_empty() {
            return Err(CodecError::EmptyMediaTypes);
        }
        Ok(Self {
            media_type_list: VarVec(types),
        })
    }

    /// The media types, in order (the first is the default of an `ApplicationFraming` with
    /// an empty type).
    pub fn types(&self) -> &[MediaType] {
        self.media_type_list.as_slice()
    }

    /// Whether `media_type` is listed (by `type/subtype`, case-insensitively; parameters are
    /// not compared).
    pub fn supports(&self, media_type: &MediaType) -> bool {
        let wanted = media_type.normalized();
        self.types().iter().any(|t| t.normalized() == wanted)
    }

    /// The listed `type/subtype`s, normalized.
    pub(crate) fn normalized_types(&self) -> Vec<Vec<u8>> {
        self.types().iter().map(MediaType::normalized).collect()
    }

    /// The encoded list, as stored in the `app_data_dictionary`.
    ///
    /// # Errors
    /// [`CodecError::LengthTooLarge`] for a list of 2^30 bytes or more.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CodecError> {
        crate::codec::encode(self)
    }
}

impl tls_codec::DeserializeBytes for MediaTypeList {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (media_type_list, rest) = VarVec::<MediaType>::tls_deserialize_bytes(bytes)?;
        if media_type_list.as_slice().is_empty() {
            return Err(CodecError::EmptyMediaTypes.into_tls_decoding());
        }
        Ok((Self { media_type_list }, rest))
    }
}

/// `ApplicationFraming`: `application_data` in a group whose GroupContext has a
/// `content_media_types` component.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct ApplicationFraming {
    /// `MediaType media_type`.
    pub media_type: MediaType,
    /// `opaque inner_application_content<V>`.
    pub inner_application_content: VarBytes,
}

impl ApplicationFraming {
    /// The media type of the content: the framing's, or for an empty type the first of the
    /// group's `required` list.
    pub fn effective_type<'a>(&'a self, required: &'a MediaTypeList) -> Option<&'a MediaType> {
        if self.media_type.media_type.as_slice().is_empty() {
            required.types().first()
        } else {
            Some(&self.media_type)
        }
    }
}

impl ApplicationFraming {
    /// `content` of `media_type`, framed.
    pub fn new(media_type: MediaType, content: Vec<u8>) -> Self {
        Self {
            media_type,
            inner_application_content: VarBytes(content),
        }
    }

    /// The encoded framing, the `application_data` to send.
    ///
    /// # Errors
    /// [`CodecError::LengthTooLarge`] for content of 2^30 bytes or more.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CodecError> {
        crate::codec::encode(self)
    }

    /// `application_data` read as an `ApplicationFraming` (exactly: trailing bytes are an
    /// error).
    ///
    /// # Errors
    /// Any [`CodecError`].
    pub fn from_bytes(application_data: &[u8]) -> Result<Self, CodecError> {
        crate::codec::decode_exact(application_data)
    }
}

/// The GroupContext's `content_media_types` list, if its `app_data_dictionary` has one: then
/// every `application_data` of the group is an [`ApplicationFraming`].
pub(crate) fn group_media_types(
    extensions: &Extensions,
) -> Result<Option<MediaTypeList>, Violation> {
    let broken = |_| Violation::new(Rule::ApplicationFramed);
    let Some(dictionary) = extensions.typed::<AppDataDictionary>().map_err(broken)? else {
        return Ok(None);
    };
    dictionary.media_types().map_err(broken)
}

/// XT-06: where the GroupContext lists media types, `application_data` is an
/// `ApplicationFraming`.
pub(crate) fn check_framed(
    extensions: &Extensions,
    application_data: &[u8],
) -> Result<(), Violation> {
    // Only the component's presence matters here: no need to decode the list per message.
    let required = match extensions.typed::<AppDataDictionary>() {
        Ok(None) => false,
        Ok(Some(dictionary)) => dictionary.get(super::CONTENT_MEDIA_TYPES).is_some(),
        Err(_) => true,
    };
    if !required {
        return Ok(());
    }
    ApplicationFraming::from_bytes(application_data)
        .map(|_| ())
        .map_err(|e| Violation::new(Rule::ApplicationFramed).with(Detail::Reason(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tls_codec::DeserializeBytes;

    #[test]
    fn media_types_round_trip_compare_without_case_and_refuse_an_empty_list() {
        let list = MediaTypeList::new(vec![
            MediaType::new("text/plain").with_parameter("charset", "UTF-8"),
            MediaType::new("application/vnd.example.msgbus+cbor"),
        ])
        .unwrap();
        let bytes = list.to_bytes().unwrap();
        let back: MediaTypeList = crate::codec::decode_exact(&bytes).unwrap();
        assert_eq!(back, list);
        assert!(list.supports(&MediaType::new("Text/Plain")));
        assert!(!list.supports(&MediaType::new("image/png")));
        assert_eq!(MediaTypeList::new(vec![]), Err(CodecError::EmptyMediaTypes));
        let empty = crate::codec::encode(&VarVec::<MediaType>::default()).unwrap();
        assert!(MediaTypeList::tls_deserialize_bytes(&empty).is_err());

        let framing = ApplicationFraming {
            media_type: MediaType::default(),
            inner_application_content: VarBytes(b"hi".to_vec()),
        };
        assert_eq!(
            framing.effective_type(&list).map(MediaType::normalized),
            Some(b"text/plain".to_vec())
        );
        let bytes = crate::codec::encode(&framing).unwrap();
        assert_eq!(
            crate::codec::decode_exact::<ApplicationFraming>(&bytes).unwrap(),
            framing
        );
    }
}
