//! GetRandomPassword.

use crate::ApiResult;
use coffer_core::password::{PasswordSpec, generate};
use coffer_protocol::shapes::{GetRandomPasswordInput, GetRandomPasswordOutput, SecretText};
use zeroize::Zeroizing;

/// GetRandomPassword with AWS's options and defaults (32 chars, every type required).
pub fn random_password(input: GetRandomPasswordInput) -> ApiResult<GetRandomPasswordOutput> {
    let d = PasswordSpec::default();
    let spec = PasswordSpec {
        length: input.password_length.unwrap_or(d.length),
        exclude_characters: input.exclude_characters.unwrap_or_default(),
        exclude_numbers: input.exclude_numbers.unwrap_or(false),
        exclude_punctuation: input.exclude_punctuation.unwrap_or(false),
        exclude_uppercase: input.exclude_uppercase.unwrap_or(false),
        exclude_lowercase: input.exclude_lowercase.unwrap_or(false),
        include_space: input.include_space.unwrap_or(false),
        require_each_included_type: input.require_each_included_type.unwrap_or(true),
    };
    let p = generate(&spec).map_err(crate::convert::core)?;
    Ok(GetRandomPasswordOutput {
        random_password: SecretText(Zeroizing::new(p)),
    })
}
