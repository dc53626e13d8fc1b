//! `welcome.json`: a joiner opens a Welcome (RFC 9420 §12.4.3.1) with its KeyPackage's init
//! key, decrypts and verifies the GroupInfo, and checks the confirmation tag.

use canopy_core::advanced::crypto::key_package_ref;
use canopy_core::join::{
    open_group_info, open_group_secrets, verify_confirmation_tag, verify_group_info,
};
use canopy_core::wire::MlsMessage;
use canopy_crypto::{CryptoProvider, HpkePrivateKey, SignaturePublicKey, SuiteOps};
use serde::Deserialize;

use super::{Hex, Outcome, with_suite};

#[derive(Deserialize)]
pub(crate) struct Case {
    cipher_suite: u16,
    init_priv: Hex,
    signer_pub: Hex,
    key_package: Hex,
    welcome: Hex,
}

pub(crate) fn check(c: &Case, provider: &dyn CryptoProvider) -> Outcome {
    with_suite(provider, c.cipher_suite, String::new, |ops| run(c, ops))
}

fn run(c: &Case, ops: &dyn SuiteOps) -> Result<(), String> {
    let MlsMessage::KeyPackage(key_package) =
        MlsMessage::from_bytes(&c.key_package).map_err(|e| format!("key_package: {e}"))?
    else {
        return Err("key_package is not a KeyPackage".into());
    };
    let MlsMessage::Welcome(welcome) =
        MlsMessage::from_bytes(&c.welcome).map_err(|e| format!("welcome: {e}"))?
    else {
        return Err("welcome is not a Welcome".into());
    };
    let encoded = key_package.to_bytes().map_err(|e| e.to_string())?;
    let reference = key_package_ref(ops, &encoded).map_err(|e| e.to_string())?;
    let init = HpkePrivateKey::from_slice(&c.init_priv);
    let secrets = open_group_secrets(ops, &welcome, &reference, &init)
        .map_err(|e| format!("group secrets: {e}"))?;
    if !secrets.psks.as_slice().is_empty() {
        return Err("the Welcome needs PSKs the case does not give".into());
    }
    let (group_info, joiner) =
        open_group_info(ops, &welcome, &secrets, &[]).map_err(|e| format!("group info: {e}"))?;
    verify_group_info(
        ops,
        &group_info,
        &SignaturePublicKey::new(c.signer_pub.to_vec()),
    )
    .map_err(|e| format!("group info signature: {e}"))?;
    verify_confirmation_tag(ops, &group_info, &joiner)
        .map_err(|e| format!("confirmation tag: {e}"))?;
    Ok(())
}
