//! E-mail addresses and phone numbers as stored: normalised, or refused.

/// Whether a value is whitespace only but not empty (`" "`, `"\u{2028}"`): a mistake, not a
/// request to clear a field, which `null` or `""` make.
pub fn is_blank(raw: &str) -> bool {
    !raw.is_empty() && raw.trim().is_empty()
}

/// Trims and lower-cases an e-mail address; `Err` with a message when it is not an address.
pub fn normalize_email(raw: &str) -> Result<String, String> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err("E-mail is required.".into());
    }
    if email.len() > 254 {
        return Err("E-mail must be at most 254 characters.".into());
    }
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.len() <= 64
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        }
        None => false,
    };
    if valid { Ok(email) } else { Err(format!("'{}' is not a valid e-mail address.", raw.trim())) }
}

/// Normalises a phone number to E.164 (`+` and 8 to 15 digits).
///
/// Spaces, dashes, dots and parentheses are ignored. A bare Uzbek national number
/// (9 digits, e.g. `901234567`) gets `+998`; `998…` with 12 digits and `00…` prefixes
/// get their `+`. Anything else is refused with a message.
pub fn normalize_phone(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    let mut digits = String::with_capacity(trimmed.len());
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(format!("'{trimmed}' is not a valid phone number.")),
        }
    }
    let international = if trimmed.starts_with('+') {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else if digits.len() == 9 {
        format!("998{digits}")
    } else if digits.len() == 12 && digits.starts_with("998") {
        digits
    } else {
        return Err(format!("'{trimmed}' is not a valid phone number: use international format, e.g. +998901234567."));
    };
    let valid_length = (8..=15).contains(&international.len());
    if !valid_length || international.starts_with('0') {
        return Err(format!("'{trimmed}' is not a valid phone number."));
    }
    if international.starts_with("998") && international.len() != 12 {
        return Err(format!("'{trimmed}' is not a valid Uzbek phone number (+998 and 9 digits)."));
    }
    Ok(format!("+{international}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(normalize_email("  John@Example.COM ").unwrap(), "john@example.com");
        for bad in ["", "john", "john@", "@example.com", "a@b", "a b@c.com", "a@b..com", "a@@b.com"] {
            assert!(normalize_email(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn blank_is_whitespace_but_not_empty() {
        assert!(is_blank(" ") && is_blank("\u{2028}\u{2029}") && !is_blank("") && !is_blank(" a "));
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(normalize_phone("901234567").unwrap(), "+998901234567");
        assert_eq!(normalize_phone("+998 90 123-45-67").unwrap(), "+998901234567");
        assert_eq!(normalize_phone("998901234567").unwrap(), "+998901234567");
        assert_eq!(normalize_phone("00998901234567").unwrap(), "+998901234567");
        assert_eq!(normalize_phone("+1 (555) 123-4567").unwrap(), "+15551234567");
        for bad in ["", "abc", "12345", "+99890123", "+1234567890123456", "90-12x", "+0123456789"] {
            assert!(normalize_phone(bad).is_err(), "{bad} should be refused");
        }
    }
}
